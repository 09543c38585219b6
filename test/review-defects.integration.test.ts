/**
 * Issue #16's bookkeeping defects against real memcached: an outage is not an absence (a stalled server via a
 * fault proxy), bookkeeping past the item size limit (memcached -I 2k), invalidation sparing re-set entries.
 */
import { createHashRing, MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const running: RunningMemcached[] = [];
const clients: MemcachedClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(running.map((s) => s.stop()));
});
async function memcached(args: string[] = []): Promise<RunningMemcached> {
  const server = await startMemcached({ args });
  running.push(server);
  return server;
}
function client(servers: string[], options: { trackKeys?: boolean } = {}): MemcachedClient {
  const made = new MemcachedClient({
    transport: memjsTransport({ timeout: 200, probeInterval: 50 }),
    servers,
    ...options,
  });
  clients.push(made);
  return made;
}

describe('an outage is not an absence (real memcached behind a stalling proxy)', () => {
  let proxies: FaultProxy[];
  let servers: string[];
  beforeAll(async () => {
    const backends = [await memcached(), await memcached()];
    proxies = await Promise.all(backends.map((backend) => startFaultProxy(backend.port)));
    servers = proxies.map((proxy) => proxy.address);
  });
  afterAll(() => Promise.all(proxies.map((proxy) => proxy.close())));

  it("a tracked client's keys come back after its record's server stalled", async () => {
    const ring = createHashRing(servers);
    const registryServer = ring.serverFor('lovely-memcached:tracking:uids');
    let a = client(servers, { trackKeys: true });
    // A client whose record lives on the other server than the registry (about one in two does).
    for (let tries = 0; ring.serverFor(`lovely-memcached:tracking:${a.uid}`) === registryServer; tries++) {
      if (tries > 100) throw new Error('no uid routed away from the registry');
      a = client(servers, { trackKeys: true });
    }
    const recordProxy = proxies[1 - registryServer] as FaultProxy;
    const b = client(servers, { trackKeys: true });
    const keys = Array.from({ length: 30 }, (_, i) => `a-${i}`);
    for (const key of keys) await a.set(key, 1);
    const before = (await b.keys()).length;
    expect(before).toBeGreaterThan(0);

    recordProxy.mode = 'stall';
    await b.keys();
    recordProxy.mode = 'pass';
    await sleep(500); // the stalled server is probed back into use
    expect((await b.keys()).length).toBe(before);
  });
});

describe('bookkeeping past the item size limit (memcached -I 2k)', () => {
  it('keys() and dependents() list every live key', async () => {
    const server = await memcached(['-I', '2k', '-o', 'slab_chunk_max=2048']);
    const a = client(server.servers, { trackKeys: true });
    const longKey = (i: number) => `${'k'.repeat(200)}-${i}`;
    for (let i = 0; i < 120; i++) await a.set(longKey(i), 1, { dependencies: ['d'] });
    expect((await client(server.servers, { trackKeys: true }).keys()).length).toBe(120);
    expect(await a.dependents('d')).toHaveLength(120);
    await a.invalidate(undefined, { dependencies: ['d'] });
    expect(await a.keys()).toEqual([]);
    expect(await a.query(longKey(5))).toBeUndefined();
  });
});

describe('invalidation spares entries set again without the dependency', () => {
  it('re-set without it: kept, and not a dependent any more', async () => {
    const server = await memcached();
    const c = client(server.servers);
    await c.set('a', 1, { dependencies: ['d'] });
    await c.set('a', 2);
    expect(await c.dependents('d')).toEqual([]);
    await c.invalidate(undefined, { dependencies: ['d'] });
    expect(await c.query('a')).toBe(2);
  });
});
