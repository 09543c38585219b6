/**
 * Regression tests for the defects a review reproduced (issue #16), over the memory transport; the same
 * scenarios against a real memcached live in test/review-defects.integration.test.ts.
 */
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { dependencyRecords } from '../src/dependencies';
import { CacheError } from '../src/errors';
import { createHashRing } from '../src/ketama';
import { encodeKey } from '../src/key';

const servers = ['127.0.0.1:11211'];

describe('invalidating a dependency spares entries that no longer carry it (#16.3)', () => {
  it('an entry set again without the dependency survives, and is no longer listed as a dependent', async () => {
    const client = new MemcachedClient({ transport: memoryTransport(), servers });
    await client.set('a', 1, { dependencies: ['d'] });
    await client.set('b', 1, { dependencies: ['d'] });
    await client.set('a', 2);
    expect(await client.dependents('d')).toHaveLength(1);
    await client.invalidate(undefined, { dependencies: ['d'] });
    expect(await client.query('a')).toBe(2);
    expect(await client.query('b')).toBeUndefined();
  });

  it('an entry set again with another dependency survives the old one', async () => {
    const client = new MemcachedClient({ transport: memoryTransport(), servers });
    await client.set('a', 1, { dependencies: ['old'] });
    await client.set('a', 2, { dependencies: ['new'] });
    await client.invalidate(undefined, { dependencies: ['old'] });
    expect(await client.query('a')).toBe(2);
    await client.invalidate(undefined, { dependencies: ['new'] });
    expect(await client.query('a')).toBeUndefined();
  });
});

describe('any number of dependencies (#16.4)', () => {
  it.each([255, 256, 300])(
    '%i dependencies: the entry reads back and every one invalidates it',
    async (count) => {
      const client = new MemcachedClient({ transport: memoryTransport(), servers });
      const dependencies = Array.from({ length: count }, (_, i) => `dep-${i}`);
      expect(await client.set('many', { v: 1 }, { dependencies })).not.toBeNull();
      expect(await client.query('many')).toEqual({ v: 1 });
      await client.set('raw', 'text', { raw: true, dependencies });
      expect(await client.query('raw', { raw: true })).toBe('text');
      await client.invalidate(undefined, { dependencies: [`dep-${count - 1}`] });
      expect(await client.query('many')).toBeUndefined();
      expect(await client.query('raw', { raw: true })).toBeUndefined();
    },
  );
});

describe('a value too large writes nothing at all (#16.10)', () => {
  it('no token, index or tracking record is left behind', async () => {
    const memory = memoryTransport({ maxItemSize: 4096 });
    const client = new MemcachedClient({ transport: memory, servers, trackKeys: true });
    const error = await client
      .set('big', 'x'.repeat(4000), { dependencies: ['d1', 'd2'] })
      .catch((e: unknown) => e);
    expect((error as CacheError).code).toBe('ERR_VALUE_TOO_LARGE');
    expect(memory.store(servers[0] as string).stats().curr_items).toBe('0');
  });

  it('the stamps are counted before anything is written', async () => {
    const memory = memoryTransport({ maxItemSize: 4096 });
    const client = new MemcachedClient({ transport: memory, servers });
    // Fits without stamps, not with 40 of them (about 70 bytes each).
    const value = 'x'.repeat(3000);
    const dependencies = Array.from({ length: 40 }, (_, i) => `d${i}`);
    await expect(client.set('edge', value, { dependencies })).rejects.toMatchObject({
      code: 'ERR_VALUE_TOO_LARGE',
    });
    expect(memory.store(servers[0] as string).stats().curr_items).toBe('0');
    expect(await client.set('edge', value)).not.toBeNull();
  });
});

describe('use after close (#16.8)', () => {
  it('every call rejects with ERR_CLIENT_CLOSED; close twice is fine', async () => {
    const client = new MemcachedClient({ transport: memoryTransport(), servers, trackKeys: true });
    await client.set('k', 1);
    await client.close();
    await client.close();
    const calls: Array<() => Promise<unknown>> = [
      () => client.set('k', 1),
      () => client.query('k'),
      () => client.getOrSet('k', () => 1),
      () => client.invalidate('k'),
      () => client.invalidateAll(),
      () => client.keys(),
      () => client.dependents('d'),
      () => client.getStatistics(),
    ];
    for (const call of calls) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheError);
      expect((error as CacheError).code).toBe('ERR_CLIENT_CLOSED');
    }
    expect(() => {
      client.servers = ['127.0.0.1:11212'];
    }).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_CLOSED' }));
  });
});

describe('an outage is not an absence (#16.5)', () => {
  const two = ['127.0.0.1:21001', '127.0.0.1:21002'];
  const registryKey = 'lovely-memcached:tracking:uids';

  /** A tracking client whose record lives on the other server than the registry. */
  function splitClient(memory: ReturnType<typeof memoryTransport>): {
    client: MemcachedClient;
    recordServer: string;
  } {
    const ring = createHashRing(two);
    for (;;) {
      const client = new MemcachedClient({ transport: memory, servers: two, trackKeys: true });
      const record = ring.serverFor(`lovely-memcached:tracking:${client.uid}`);
      if (record !== ring.serverFor(registryKey)) return { client, recordServer: two[record] as string };
    }
  }

  it("a record that cannot be read for a while is not pruned: its client's keys come back", async () => {
    const memory = memoryTransport();
    const { client: a, recordServer } = splitClient(memory);
    const b = new MemcachedClient({ transport: memory, servers: two, trackKeys: true });
    const keys = Array.from({ length: 20 }, (_, i) => `a-${i}`);
    for (const key of keys) await a.set(key, 1);
    expect((await b.keys()).length).toBe(20);

    memory.down(recordServer);
    await b.keys(); // A's record is unreachable now
    memory.up(recordServer);
    expect(((await b.keys()) as string[]).sort()).toEqual([...keys].sort());
  });

  it('a client the registry lost lists itself again as it keeps writing', async () => {
    const memory = memoryTransport();
    let clock = Date.now();
    const a = new MemcachedClient({ transport: memory, servers: two, trackKeys: true, now: () => clock });
    const b = new MemcachedClient({ transport: memory, servers: two, trackKeys: true });
    await a.set('first', 1);
    // The registry is lost (evicted, or pruned by a client that misjudged an outage).
    await memory(two).delete(registryKey);
    expect(await b.keys()).toEqual([]);
    clock += 1100; // past the interval between registry checks
    await a.set('second', 2);
    expect(((await b.keys()) as string[]).sort()).toEqual(['first', 'second']);
  });
});

describe('bookkeeping at the item size limit drops nothing (#16.6)', () => {
  // Keys of ~200 bytes: a 4 KiB record holds about 20 lines.
  const longKey = (i: number) => `${'k'.repeat(200)}-${i}`;

  it('keys() lists every live key when the tracking record outgrows the item limit', async () => {
    const memory = memoryTransport({ maxItemSize: 4096 });
    const a = new MemcachedClient({ transport: memory, servers, trackKeys: true });
    const keys = Array.from({ length: 201 }, (_, i) => longKey(i));
    for (const key of keys) await a.set(key, 1);
    const listed = await new MemcachedClient({ transport: memory, servers, trackKeys: true }).keys();
    expect(listed.length).toBe(201);
    expect(new Set(listed)).toEqual(new Set(keys));
  });

  it('dependents() and invalidate reach every dependent when the index outgrows the item limit', async () => {
    const memory = memoryTransport({ maxItemSize: 2048 });
    const client = new MemcachedClient({ transport: memory, servers });
    for (let i = 0; i < 201; i++) await client.set(i, 'v', { dependencies: ['d'] });
    expect(await client.dependents('d')).toHaveLength(201);
    await client.invalidate(undefined, { dependencies: ['d'] });
    expect(memory.store(servers[0] as string).stats().curr_items).toBe('0');
  });

  it('compacting a full index drops entries that are gone or no longer tied', async () => {
    const memory = memoryTransport({ maxItemSize: 2048 });
    const client = new MemcachedClient({ transport: memory, servers });
    for (let i = 0; i < 55; i++) await client.set(i, 'v', { dependencies: ['d'] });
    for (let i = 0; i < 45; i++) await client.set(i, 'v'); // no longer tied
    for (let i = 100; i < 140; i++) await client.set(i, 'v', { dependencies: ['d'] });
    expect((await client.dependents('d')).length).toBe(50);
    // Compaction made room in place: no second chunk was needed.
    const { indexKey } = dependencyRecords(encodeKey('d'), null);
    expect(await memory(servers).get(indexKey)).toBeDefined();
    expect(await memory(servers).get(`${indexKey}.1`)).toBeUndefined();
  });

  it('keys() leaves out entries whose dependency token is gone', async () => {
    const memory = memoryTransport();
    const client = new MemcachedClient({ transport: memory, servers, trackKeys: true });
    await client.set('tied', 1, { dependencies: ['d'] });
    await client.set('free', 2);
    expect(((await client.keys()) as string[]).sort()).toEqual(['free', 'tied']);
    // Only the token goes (as when memcached evicts it): the entry stays in memcached, dead.
    await memory(servers).delete(dependencyRecords(encodeKey('d'), null).tokenKey);
    expect(await client.query('tied')).toBeUndefined();
    expect(await client.keys()).toEqual(['free']);
  });
});
