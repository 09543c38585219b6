/**
 * Issue #16.5 and #16.6, second pass, against real memcached: a client the registry lost lists itself again
 * from `keys()`; chunked tracking records stay readable after a flush and reuse their chunks (memcached -I 2k,
 * where an append past the item limit is answered like one to a missing key).
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { afterAll, describe, expect, it } from 'vitest';

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
function tracking(servers: string[]): MemcachedClient {
  const made = new MemcachedClient({ transport: memjsTransport(), servers, trackKeys: true });
  clients.push(made);
  return made;
}
const SMALL_ITEMS = ['-I', '2k', '-o', 'slab_chunk_max=2048'];
const longKey = (i: number) => `${'k'.repeat(200)}-${i}`;
const sorted = (keys: unknown[]) => (keys as string[]).slice().sort();

describe('bookkeeping recovers on real memcached', () => {
  it('keys() re-registers a client the registry lost', async () => {
    const server = await memcached();
    const a = tracking(server.servers);
    const b = tracking(server.servers);
    await a.set('first', 1);
    await a.invalidate('lovely-memcached:tracking:uids', { raw: true });
    expect(await b.keys()).toEqual([]);
    expect(await a.keys()).toEqual(['first']);
    expect(await b.keys()).toEqual(['first']);
  });

  it('a record that had rolled over many chunks is read again after a flush', async () => {
    const server = await memcached(SMALL_ITEMS);
    const a = tracking(server.servers);
    const b = tracking(server.servers);
    for (let i = 0; i < 80; i++) await a.set(longKey(i), 1);
    expect(await b.keys()).toHaveLength(80);
    await b.invalidateAll();
    await a.set('after-flush', 1);
    expect(await b.keys()).toEqual(['after-flush']);
  });

  it('a record whose live keys keep moving on reuses its chunks: every live key listed', async () => {
    const server = await memcached(SMALL_ITEMS);
    const a = tracking(server.servers);
    const window = 12;
    const total = 600; // about 7 lines per chunk: far more than 64 chunks' worth
    for (let i = 0; i < total; i++) {
      await a.set(longKey(i), 1);
      if (i >= window) await a.invalidate(longKey(i - window));
    }
    const expected = Array.from({ length: window }, (_, i) => longKey(total - window + i));
    expect(sorted(await tracking(server.servers).keys())).toEqual(sorted(expected));
  });
});
