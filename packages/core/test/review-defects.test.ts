/**
 * Regression tests for the defects a review reproduced (issue #16), over the memory transport; the same
 * scenarios against a real memcached live in test/review-defects.integration.test.ts.
 */
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { CacheError } from '../src/errors';

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
