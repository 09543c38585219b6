import type { TransportFactory } from '@lovely-memcached/core';
import { type MemoryTransportFactory, memoryTransport } from '@lovely-memcached/transport-memory';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { chaosTransport, TestMemcachedClient } from '../src';

describe('TestMemcachedClient', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is a MemcachedClient over its own memory store', async () => {
    const a = new TestMemcachedClient();
    const b = new TestMemcachedClient();
    await a.set('k', 'from a');
    expect(await a.query('k')).toBe('from a');
    expect(await b.query('k')).toBeUndefined();
    expect(a.memory).toBeDefined();
    expect(a.servers).toEqual(['127.0.0.1:11211']);
  });

  it('shares a store when given the same transport', async () => {
    const memory = memoryTransport();
    const a = new TestMemcachedClient({ transport: memory, trackKeys: true });
    const b = new TestMemcachedClient({ transport: memory, trackKeys: true });
    await a.set(1, 1);
    expect(await b.query(1)).toBe(1);
    expect(await b.keys()).toEqual([1]);
    // The memory transport given is the client's `memory`: its controls act on the shared store.
    expect(a.memory).toBe(memory);
    a.memory.down('127.0.0.1:11211');
    expect(await b.query(1)).toBeUndefined();
    a.memory.up('127.0.0.1:11211');
  });

  it('types `memory` as there over a memory transport, possibly undefined over another (#23.13)', async () => {
    const own = new TestMemcachedClient();
    expectTypeOf(own.memory).toEqualTypeOf<MemoryTransportFactory>();
    own.memory.down('127.0.0.1:11211'); // no `?.`
    expect(await own.set('k', 'v')).toBeNull();
    own.memory.up('127.0.0.1:11211');

    const chaos = chaosTransport(memoryTransport(), { fail: 0 });
    const over = new TestMemcachedClient({ transport: chaos, trackKeys: true });
    expectTypeOf(over.memory).toEqualTypeOf<MemoryTransportFactory | undefined>();
    expect(over.memory).toBeUndefined();

    // An annotation without a type argument is a client over its own memory transport.
    const annotated: TestMemcachedClient = new TestMemcachedClient({ defaultNS: 'app' });
    expectTypeOf(annotated.memory).toEqualTypeOf<MemoryTransportFactory>();
    const anyTransport: TestMemcachedClient<TransportFactory> = over;
    expectTypeOf(anyTransport.memory).toEqualTypeOf<MemoryTransportFactory | undefined>();
    await Promise.all([own.close(), over.close(), annotated.close()]);
  });

  it('expires entries under vitest fake timers', async () => {
    vi.useFakeTimers();
    const client = new TestMemcachedClient();
    await client.set('k', 'v', { lifetime: 1 });
    vi.advanceTimersByTime(900);
    expect(await client.query('k')).toBe('v');
    vi.advanceTimersByTime(200);
    expect(await client.query('k')).toBeUndefined();
  });
});
