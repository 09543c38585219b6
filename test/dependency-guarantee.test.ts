import { MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { expectGuaranteeHeld, runDependencyRace, runEvictionRounds } from './dependency-guarantee.shared';
import { interleaving, seededRandom } from './support/interleaving-transport';

const servers = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];

describe('dependency guarantee over the memory transport', () => {
  it.each([1, 2, 3, 4, 5, 6])('holds under interleaved writers and invalidations (seed %i)', async (seed) => {
    const transport = interleaving(memoryTransport(), seededRandom(seed * 7919));
    const run = await runDependencyRace(transport, servers, { seed });
    expectGuaranteeHeld(run);
    // The race is real: values written during invalidations are still found afterwards.
    expect(run.hitsAfterInvalidation).toBeGreaterThan(0);
  });

  it('holds when memcached evicts the bookkeeping: a small memory limit under load', async () => {
    const memory = memoryTransport({ memoryLimit: 48 * 1024 });
    const client = new MemcachedClient({ transport: memory, servers: [servers[0] as string] });
    const { checked, evictions } = await runEvictionRounds(client, {
      rounds: 20,
      entries: 30,
      filler: 20,
      size: 900,
    });
    expect(checked).toBe(600);
    expect(evictions).toBeGreaterThan(100);
  });

  it('holds when the reverse index was evicted but entries survive', async () => {
    const memory = memoryTransport();
    const client = new MemcachedClient({ transport: memory, servers: [servers[0] as string] });
    const keys = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.set(`k${i}`, i, { dependencies: ['d'] })),
    );
    // Evict only the index record (what an LRU may well do to a record nobody reads).
    const store = memory.store(servers[0] as string);
    const [indexOwner] = await client.dependents('d');
    expect(indexOwner).toBe(keys[0]);
    const transport = memory([servers[0] as string]);
    for (const key of store.keys()) {
      const item = await transport.get(key);
      if (item && (item.flags & 0xff) === 0x11) await transport.delete(key);
    }
    expect(await client.dependents('d')).toEqual([]);
    expect(await client.query('k3')).toBe(3); // entries survived the index
    await client.invalidate(undefined, { dependencies: ['d'] });
    expect(await Promise.all(keys.map((_, i) => client.query(`k${i}`)))).toEqual(Array(10).fill(undefined));
  });

  it('reads an entry whose token was evicted as a miss, and writes afresh afterwards', async () => {
    const memory = memoryTransport();
    const client = new MemcachedClient({ transport: memory, servers: [servers[0] as string] });
    await client.set('k', 'v', { dependencies: ['d'] });
    const transport = memory([servers[0] as string]);
    for (const key of memory.store(servers[0] as string).keys()) {
      const item = await transport.get(key);
      if (item && (item.flags & 0xff) === 0x10) await transport.delete(key);
    }
    expect(await client.query('k')).toBeUndefined();
    await client.set('k', 'v2', { dependencies: ['d'] });
    expect(await client.query('k')).toBe('v2');
  });
});
