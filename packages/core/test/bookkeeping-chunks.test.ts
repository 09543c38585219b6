/**
 * Issue #16.6, second pass: chunked bookkeeping (tracking records, reverse indexes) stays readable after it was
 * emptied behind a writer (a flush, an invalidation, an eviction), and a record whose live lines keep moving on
 * reuses its chunks instead of running out of them.
 */
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { dependencyRecords } from '../src/dependencies';
import { encodeKey } from '../src/key';

const one = ['127.0.0.1:11211'];
const recordKey = (client: MemcachedClient) => `lovely-memcached:tracking:${client.uid}`;
const sorted = (keys: unknown[]) => (keys as string[]).slice().sort();
/** Keys of ~200 bytes: a 2 KiB tracking chunk holds about 7 lines, a 1 KiB one about 3. */
const longKey = (i: number) => `${'k'.repeat(200)}-${i}`;

describe('records and indexes emptied after rolling over start again at their first chunk (#16.6)', () => {
  it('keys() sees what a client tracks after a flush, even if its record had many chunks', async () => {
    const memory = memoryTransport({ maxItemSize: 2048 });
    const a = new MemcachedClient({ transport: memory, servers: one, trackKeys: true });
    const b = new MemcachedClient({ transport: memory, servers: one, trackKeys: true });
    for (let i = 0; i < 100; i++) await a.set(longKey(i), 1);
    expect(await memory(one).get(`${recordKey(a)}.9`)).toBeDefined(); // rolled past a read batch
    await b.invalidateAll();
    await a.set('after-flush', 1);
    expect(await b.keys()).toEqual(['after-flush']);
    expect(await a.keys()).toEqual(['after-flush']);
  });

  it('dependents() sees entries indexed after another client freed a many-chunk index', async () => {
    const memory = memoryTransport({ maxItemSize: 1024 });
    const writer = new MemcachedClient({ transport: memory, servers: one });
    const other = new MemcachedClient({ transport: memory, servers: one });
    for (let i = 0; i < 300; i++) await writer.set(i, 'v', { dependencies: ['d'] });
    const { indexKey } = dependencyRecords(encodeKey('d'), null);
    expect(await memory(one).get(`${indexKey}.9`)).toBeDefined();
    await other.invalidate(undefined, { dependencies: ['d'] });
    const fresh = await writer.set('fresh', 'v', { dependencies: ['d'] });
    expect(await other.dependents('d')).toEqual([fresh]);
    await other.invalidate(undefined, { dependencies: ['d'] });
    expect(await memory(one).get(fresh as string)).toBeUndefined();
  });

  it('a chunk evicted under a writer is filled again in order, not skipped', async () => {
    const memory = memoryTransport({ maxItemSize: 2048 });
    const a = new MemcachedClient({ transport: memory, servers: one, trackKeys: true });
    for (let i = 0; i < 30; i++) await a.set(longKey(i), 1);
    // The chunk the writer appends to disappears (as under eviction) while earlier chunks stay.
    let last = 0;
    while (await memory(one).get(`${recordKey(a)}.${last + 1}`)) last++;
    expect(last).toBeGreaterThan(0);
    await memory(one).delete(`${recordKey(a)}.${last}`);
    await a.set('after-eviction', 1);
    expect(await a.keys()).toContain('after-eviction');
  });
});

describe('a record whose live lines outgrow one chunk never runs out of chunks (#16.6)', () => {
  // Each full chunk rolls the writer on to the next; without reuse it reaches the last chunk after 64 chunks'
  // worth of writes, however few of them are still live, and from then on every line is lost.
  it('keys() lists every live key after many more writes than the chunks could hold', async () => {
    const memory = memoryTransport({ maxItemSize: 1024 }); // about 3 tracking lines per chunk
    const a = new MemcachedClient({ transport: memory, servers: one, trackKeys: true });
    const window = 10;
    for (let i = 0; i < 400; i++) {
      await a.set(longKey(i), 1);
      if (i >= window) await a.invalidate(longKey(i - window));
    }
    const expected = Array.from({ length: window }, (_, i) => longKey(400 - window + i));
    expect(sorted(await a.keys())).toEqual(sorted(expected));
  });

  it('dependents() lists every dependent after many more writes than the chunks could hold', async () => {
    const memory = memoryTransport({ maxItemSize: 1024 }); // about 28 index lines per chunk
    const client = new MemcachedClient({ transport: memory, servers: one });
    const window = 60;
    const tied: string[] = [];
    for (let i = 0; i < 2400; i++) {
      tied.push((await client.set(i, 'v', { dependencies: ['d'] })) as string);
      if (i >= window) await client.set(i - window, 'v'); // no longer tied
    }
    expect(sorted(await client.dependents('d'))).toEqual(sorted(tied.slice(-window)));
  });
});
