/**
 * Several real memcached servers, and the options: keys routed exactly as the memjs transport routes them
 * (the same ketama), a down server skipped at once and used again within 2 s, one probe per down server,
 * `connections: n` opening n connections, options checked when the transport is made.
 */
import { randomUUID } from 'node:crypto';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { settledConnections } from '../../../test/support/connections';
import { captureWarnings } from '../../../test/support/expected-warnings';
import { type MetaTransportEvent, metaTransport } from '../src';

let servers: RunningMemcached[] = [];
const addresses = () => servers.map((s) => s.servers[0] as string);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  servers = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

const connectionsOf = (server: RunningMemcached) => settledConnections(server, metaTransport());

describe('several servers', () => {
  it('routes every key to the server the memjs transport uses (same weighted ketama)', async () => {
    const list = [`${addresses()[0]}:2`, addresses()[1] as string, addresses()[2] as string];
    const meta = metaTransport()(list);
    const memjs = memjsTransport()(list);
    const keys = Array.from({ length: 200 }, () => randomUUID());
    await Promise.all(keys.map((key) => meta.set(key, Buffer.from(key))));
    // Each server asked on its own: a key written by meta is where memjs looks for it.
    const found = await Promise.all(keys.map((key) => memjs.get(key)));
    expect(
      found.every((item, i) => item !== undefined && Buffer.from(item.value).toString() === keys[i]),
    ).toBe(true);
    const weights = (await meta.stats()).map((s) => s.weight);
    expect(weights).toEqual([2, 1, 1]);
    await Promise.all([meta.close(), memjs.close()]);
  });

  it('a down server is skipped at once, costs only its keys, and is used again within 2 s', async () => {
    const events: MetaTransportEvent[] = [];
    const transport = metaTransport({ timeout: 300, onEvent: (e) => events.push(e) })(addresses());
    const keys = Array.from({ length: 200 }, (_, i) => `down-${i}`);
    await Promise.all(keys.map((key) => transport.set(key, Buffer.from(key))));
    const victim = servers[1] as RunningMemcached;
    await victim.stop();
    await Promise.all(keys.map((key) => transport.get(key))); // discovers the failure
    const started = performance.now();
    const found = await Promise.all(keys.map((key) => transport.get(key)));
    expect((performance.now() - started) / keys.length).toBeLessThan(1);
    const lost = found.filter((item) => item === undefined).length;
    expect(lost).toBeGreaterThan(20);
    expect(lost).toBeLessThan(140);
    expect(events.filter((e) => e.type === 'server-down')).toHaveLength(1);

    servers[1] = await startMemcached({ port: victim.port });
    const victimKey = keys[found.indexOf(undefined)] as string;
    const backAt = performance.now();
    let status = await transport.set(victimKey, Buffer.from('back'));
    while (status !== 'stored' && performance.now() - backAt < 3000) {
      await sleep(10);
      status = await transport.set(victimKey, Buffer.from('back'));
    }
    expect(status).toBe('stored');
    expect(performance.now() - backAt).toBeLessThan(2000);
    expect(events.filter((e) => e.type === 'server-up')).toHaveLength(1);
    await transport.close();
  });

  it('connections: 3 opens three connections to each server and spreads requests over them', async () => {
    const server = servers[0] as RunningMemcached;
    const baseline = await connectionsOf(server);
    const transport = metaTransport({ connections: 3 })(server.servers);
    // Enough requests at once that each connection gets some.
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => transport.set(`c-${i}`, Buffer.from('v'))),
    );
    expect(results.every((status) => status === 'stored')).toBe(true);
    expect(await connectionsOf(server)).toBe(baseline + 3);
    await transport.close();
    await sleep(100);
    expect(await connectionsOf(server)).toBe(baseline);
  });

  it('five concurrent urgent deletes to a server that came back: one probe, one server-up, nothing left open', async () => {
    // The transport's only server is down before it is first used: it says so once, as expected here.
    const warnings = captureWarnings('LOVELY_MEMCACHED_UNREACHABLE');
    onTestFinished(() => warnings.restore());
    const victim = servers[2] as RunningMemcached;
    const events: MetaTransportEvent[] = [];
    const transport = metaTransport({ timeout: 200, probeInterval: 60_000, onEvent: (e) => events.push(e) })(
      victim.servers,
    );
    await victim.stop();
    await transport.get('k'); // refused: the server is marked down
    expect(events.map((e) => e.type)).toEqual(['server-down']);
    servers[2] = await startMemcached({ port: victim.port });
    const baseline = await connectionsOf(servers[2] as RunningMemcached);
    const deleted = await Promise.all(
      Array.from({ length: 5 }, (_, i) => transport.delete(`gone-${i}`, { urgent: true })),
    );
    expect(deleted).toEqual([false, false, false, false, false]);
    // Back in use once the deletes it missed (remembered while it was down) are applied, a round trip later.
    for (let i = 0; i < 100 && events.length < 3; i++) await sleep(10);
    expect(events.map((e) => e.type)).toEqual(['server-down', 'replayed', 'server-up']);
    expect(await connectionsOf(servers[2] as RunningMemcached)).toBe(baseline + 1);
    await transport.close();
  });
});

describe('options are checked when the transport is made', () => {
  it.each([
    ['timeout', Number.NaN],
    ['probeInterval', -1],
    ['connections', 0],
    ['connections', 2.5],
    ['maxItemSize', 1],
    ['tls', 'yes'],
    ['proxy', 'true'],
    ['serverLeases', 1],
    ['onEvent', 'console.log'],
  ])('%s = %s is refused with ERR_INVALID_OPTION naming it', (option, value) => {
    expect(() => metaTransport({ [option]: value })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(option) }),
    );
  });

  it('a user name without a password (or the other way round) is refused', () => {
    expect(() => metaTransport({ username: 'alice' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
    expect(() => metaTransport({ password: 'x' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });

  it('proxy mode offers no server-side leases (getOrSet takes them with add)', () => {
    expect(metaTransport({ proxy: true })(['127.0.0.1:1']).leases).toBeUndefined();
    expect(metaTransport({ serverLeases: false })(['127.0.0.1:1']).leases).toBeUndefined();
    expect(metaTransport()(['127.0.0.1:1']).leases).toBeDefined();
  });
});
