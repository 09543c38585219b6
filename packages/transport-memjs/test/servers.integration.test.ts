/**
 * Several real memcached servers: keys routed by ketama, a down server skipped at once and costing only its own
 * keys, and used again within 2 s of accepting connections — by the same transport, with no restart.
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memjsTransport } from '../src';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

let servers: RunningMemcached[] = [];
const addresses = () => servers.map((s) => s.servers[0] as string);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  servers = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await Promise.all(servers.map((s) => s.stop()));
});
afterEach(() => {
  expect(unhandled).toEqual([]);
});

async function itemsPerServer(): Promise<number[]> {
  const transport = memjsTransport()(addresses());
  const stats = await transport.stats();
  await transport.close();
  return addresses().map((address) =>
    Number(stats.find((s) => s.server === address)?.stats.curr_items ?? -1),
  );
}

describe('several servers', () => {
  it('spreads keys over every server and reads them back', async () => {
    const client = new MemcachedClient({ transport: memjsTransport(), servers: addresses() });
    await client.invalidateAll();
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.set(`key-${i}`, i)));
    const values = await Promise.all(Array.from({ length: 300 }, (_, i) => client.query(`key-${i}`)));
    expect(values).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const counts = await itemsPerServer();
    for (const count of counts) expect(count).toBeGreaterThan(50);
    expect((await client.getStatistics()).map(([label]) => label)).toEqual(
      addresses().map((a) => `${a} (1)`),
    );
    await client.close();
  });

  it('a down server is skipped at once, costs only its keys, and is used again within 2 s', async () => {
    const transport = memjsTransport({ timeout: 300 });
    const client = new MemcachedClient({ transport, servers: addresses() });
    await client.invalidateAll();
    const keys = Array.from({ length: 200 }, (_, i) => `k-${i}`);
    await Promise.all(keys.map((key) => client.set(key, key)));

    const victim = servers[1] as RunningMemcached;
    await victim.stop();
    // The first calls discover the failure; after that the server is skipped.
    await Promise.all(keys.map((key) => client.query(key)));
    const started = performance.now();
    const found = await Promise.all(keys.map((key) => client.query(key)));
    const perCall = (performance.now() - started) / keys.length;
    expect(perCall).toBeLessThan(1);
    const lost = found.filter((value) => value === undefined).length;
    expect(lost).toBeGreaterThan(20);
    expect(lost).toBeLessThan(140); // only the victim's share

    // Hot loop against a down server: each call settles in well under a millisecond.
    const victimKey = keys.find((_, i) => found[i] === undefined) as string;
    const loopStart = performance.now();
    for (let i = 0; i < 1000; i++) await client.query(victimKey);
    expect((performance.now() - loopStart) / 1000).toBeLessThan(1);

    servers[1] = await startMemcached({ port: victim.port });
    const backAt = performance.now();
    let stored: string | null = null;
    while (stored === null && performance.now() - backAt < 3000) {
      stored = await client.set(victimKey, 'back');
      if (stored === null) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(stored).not.toBeNull();
    expect(performance.now() - backAt).toBeLessThan(2000);
    expect(await client.query(victimKey)).toBe('back');
    await client.close();
  });

  it('an urgent delete (an invalidation) reaches a server that is back before its probe notices', async () => {
    const transport = memjsTransport({ timeout: 300, probeInterval: 60_000 })([addresses()[0] as string]);
    await transport.set('urgent', Buffer.from('v'));
    const victim = servers[0] as RunningMemcached;
    await victim.stop();
    expect(await transport.get('urgent')).toBeUndefined(); // discovers the failure: marked down
    servers[0] = await startMemcached({ port: victim.port });
    await transport.set('urgent', Buffer.from('v')); // skipped: still considered down, nothing sent
    const other = memjsTransport()(servers[0]?.servers ?? []);
    await other.set('urgent', Buffer.from('written by a client that sees the server up'));
    // Without urgency this delete would be skipped and the entry would stay readable for `other`.
    expect(await transport.delete('urgent', { urgent: true })).toBe(true);
    expect(await other.get('urgent')).toBeUndefined();
    // The probe that carried the delete found the server up: it is in use again.
    expect(await transport.set('urgent', Buffer.from('back'))).toBe('stored');
    await Promise.all([transport.close(), other.close()]);
  });

  it('a multi-get across servers isolates a down server: the others still answer', async () => {
    const transport = memjsTransport({ timeout: 300 })(addresses());
    const keys = Array.from({ length: 60 }, (_, i) => `iso-${i}`);
    await Promise.all(keys.map((key) => transport.set(key, Buffer.from(key))));
    const victim = servers[2] as RunningMemcached;
    await victim.stop();
    const found = (await transport.getMulti?.(keys)) ?? new Map();
    expect(found.size).toBeGreaterThan(20);
    expect(found.size).toBeLessThan(60);
    for (const [key, item] of found) expect(Buffer.from(item.value).toString()).toBe(key);
    servers[2] = await startMemcached({ port: victim.port });
    await transport.close();
  });
});
