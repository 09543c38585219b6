import { memoryTransport } from '@lovely-memcached/transport-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TestMemcachedClient } from '../src';

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
    expect(a.memory).toBeUndefined();
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
