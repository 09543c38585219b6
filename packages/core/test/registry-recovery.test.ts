/**
 * Issue #16.5, second pass: a client the registry lost lists itself again, from `keys()` as well as from its
 * writes, and a transport without `reachable` (unreachable cannot be told from absent) never prunes.
 */
import type { MemoryTransportFactory } from '@lovely-memcached/transport-memory';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { createHashRing } from '../src/ketama';
import type { Transport } from '../src/transport';

const one = ['127.0.0.1:11211'];
const two = ['127.0.0.1:21001', '127.0.0.1:21002'];
const REGISTRY_KEY = 'lovely-memcached:tracking:uids';
const recordKey = (client: MemcachedClient) => `lovely-memcached:tracking:${client.uid}`;
const sorted = (keys: unknown[]) => (keys as string[]).slice().sort();

/** The memory transport without the optional `reachable`: the core cannot tell unreachable from absent. */
function withoutReachable(memory: MemoryTransportFactory) {
  return (servers: readonly string[]): Transport => {
    const { reachable: _ignored, ...rest } = memory(servers);
    return rest;
  };
}

describe('a client the registry lost lists itself again (#16.5)', () => {
  it('keys() re-registers its own uid, without another set', async () => {
    const memory = memoryTransport();
    const a = new MemcachedClient({ transport: memory, servers: two, trackKeys: true });
    const b = new MemcachedClient({ transport: memory, servers: two, trackKeys: true });
    await a.set('first', 1);
    await memory(two).delete(REGISTRY_KEY);
    expect(await a.keys()).toEqual(['first']);
    expect(await b.keys()).toEqual(['first']);
  });

  it('a client that never stored anything does not register from keys()', async () => {
    const memory = memoryTransport();
    const reader = new MemcachedClient({ transport: memory, servers: one, trackKeys: true });
    expect(await reader.keys()).toEqual([]);
    expect(await memory(one).get(REGISTRY_KEY)).toBeUndefined();
  });

  it('keys() does not re-register while the registry is known to be unreachable', async () => {
    const memory = memoryTransport();
    const a = new MemcachedClient({ transport: memory, servers: one, trackKeys: true });
    await a.set('first', 1);
    await memory(one).delete(REGISTRY_KEY);
    memory.down(one[0] as string);
    expect(await a.keys()).toEqual([]);
    memory.up(one[0] as string);
    expect(await memory(one).get(REGISTRY_KEY)).toBeUndefined();
  });

  it('a writing client re-registers on a registry read as missing even without `reachable`', async () => {
    const memory = memoryTransport();
    let clock = Date.now();
    const a = new MemcachedClient({
      transport: withoutReachable(memory),
      servers: two,
      trackKeys: true,
      now: () => clock,
    });
    const b = new MemcachedClient({ transport: memory, servers: two, trackKeys: true });
    await a.set('first', 1);
    await memory(two).delete(REGISTRY_KEY);
    clock += 5_000; // past the interval between registry checks
    await a.set('second', 2);
    expect(sorted(await b.keys())).toEqual(['first', 'second']);
  });

  it('without `reachable`, an unreadable record is never pruned from the registry', async () => {
    const memory = memoryTransport();
    const ring = createHashRing(two);
    let a = new MemcachedClient({ transport: memory, servers: two, trackKeys: true });
    while (ring.serverFor(recordKey(a)) === ring.serverFor(REGISTRY_KEY)) {
      a = new MemcachedClient({ transport: memory, servers: two, trackKeys: true });
    }
    const b = new MemcachedClient({ transport: withoutReachable(memory), servers: two, trackKeys: true });
    for (let i = 0; i < 10; i++) await a.set(`a-${i}`, 1);
    memory.down(two[ring.serverFor(recordKey(a))] as string);
    await b.keys();
    memory.up(two[ring.serverFor(recordKey(a))] as string);
    expect(await b.keys()).toHaveLength(10);
  });
});
