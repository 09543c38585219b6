/**
 * Defect 11: what `trackKeys` costs a `set`. The lines of the sets made in one turn go out as one append, in
 * appends small beside the item size limit, and a client's compaction of its own record reads each entry it
 * lists a bounded number of times, however large the record grows.
 */
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import type { Transport, TransportFactory } from '../src/transport';

const one = ['127.0.0.1:11211'];
const sorted = (keys: unknown[]) => (keys as string[]).slice().sort();

/** The transport of `factory`, counting calls and the keys each read asks for. */
function counting(factory: TransportFactory) {
  const calls = new Map<string, number>();
  let keysRead = 0;
  const count = (method: string) => calls.set(method, (calls.get(method) ?? 0) + 1);
  const wrapped: TransportFactory = (servers) => {
    const inner = factory(servers);
    return new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || property === 'reachable') return value;
        return (...args: unknown[]) => {
          count(String(property));
          if (property === 'getMulti') keysRead += (args[0] as readonly string[]).length;
          if (property === 'get') keysRead++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Transport;
  };
  return { factory: wrapped, calls, keysRead: () => keysRead };
}

describe('tracked sets (defect 11)', () => {
  it('the sets of one turn make one append', async () => {
    const { factory, calls } = counting(memoryTransport());
    const client = new MemcachedClient({ transport: factory, servers: one, trackKeys: true });
    await client.set('first', 1); // creates the record and registers the client
    calls.clear();
    await Promise.all(Array.from({ length: 64 }, (_, i) => client.set(`k${i}`, i)));
    expect(Object.fromEntries(calls)).toEqual({ set: 64, append: 1 });
    expect(await client.keys()).toHaveLength(65);
  });

  it('a turn of many sets is appended in several appends, every key listed', async () => {
    const { factory, calls } = counting(memoryTransport());
    const client = new MemcachedClient({ transport: factory, servers: one, trackKeys: true });
    await client.set('first', 1);
    calls.clear();
    const keys = Array.from({ length: 2000 }, (_, i) => `key-${'x'.repeat(40)}-${i}`);
    await Promise.all(keys.map((key) => client.set(key, 1)));
    expect(calls.get('append')).toBeGreaterThan(1);
    expect(calls.get('append')).toBeLessThan(20);
    expect(sorted(await client.keys())).toEqual(sorted(['first', ...keys]));
  });

  it('with a small item size limit, a turn of sets still fits its chunks: no key lost', async () => {
    const memory = memoryTransport({ maxItemSize: 2048 });
    const client = new MemcachedClient({ transport: memory, servers: one, trackKeys: true });
    const keys = Array.from({ length: 100 }, (_, i) => `${'k'.repeat(200)}-${i}`);
    await Promise.all(keys.map((key) => client.set(key, 1)));
    expect(sorted(await client.keys())).toEqual(sorted(keys));
  });

  it('compacting its own record reads each entry a bounded number of times, not once per 1000 sets', async () => {
    const { factory, keysRead } = counting(memoryTransport());
    const client = new MemcachedClient({ transport: factory, servers: one, trackKeys: true });
    const total = 15_000;
    for (let i = 0; i < total; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => client.set(`unique-${i + j}`, 1)));
    }
    // Every 1000 lines, a read of every entry listed: 1000 + 2000 + ... + 15000 = 120,000 reads.
    // Once the record has grown to three times what its last compaction left: under two reads per line.
    expect(keysRead()).toBeLessThan(2 * total);
    expect(await client.keys()).toHaveLength(total);
  });
});
