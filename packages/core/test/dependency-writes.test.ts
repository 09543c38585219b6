/**
 * A set with dependencies whose tokens the writer knew once, but longer ago than it reuses them (100 ms): it is
 * written stamped with those tokens while they are read again, in one round trip instead of two; when one has
 * changed meanwhile (another client invalidated it), the entry is written again with the current one, so the
 * write is served, never lost, and the old stamps are never served.
 */
import type { Transport, TransportFactory } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';

const one = ['127.0.0.1:11211'];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const ROUND_TRIP = 100;

/** Every reply of the memory transport comes `ROUND_TRIP` ms late, as over a slow network. */
function slow(factory: TransportFactory): TransportFactory {
  return (servers) => {
    const transport = factory(servers);
    return new Proxy(transport, {
      get(target, name, receiver) {
        const member = Reflect.get(target, name, receiver);
        if (typeof member !== 'function' || name === 'reachable') return member;
        return (...args: unknown[]) => {
          const result = member.apply(target, args);
          return result instanceof Promise ? sleep(ROUND_TRIP).then(() => result) : result;
        };
      },
    }) as Transport;
  };
}

describe('a write with dependencies whose tokens the writer knew a while ago', () => {
  it('takes one round trip, not two (read the tokens, then write)', async () => {
    const client = new MemcachedClient({ transport: slow(memoryTransport()), servers: one });
    await client.set('k', 'v1', { dependencies: ['d1', 'd2', 'd3'] });
    await sleep(150); // past the reuse window: the tokens must be checked again
    const started = performance.now();
    expect(await client.set('k', 'v2', { dependencies: ['d1', 'd2', 'd3'] })).not.toBeNull();
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(ROUND_TRIP - 5);
    expect(took).toBeLessThan(1.7 * ROUND_TRIP);
    expect(await client.query('k')).toBe('v2');
    await client.close();
  });

  it('one of them invalidated by another client meanwhile: written again with the current token, and served', async () => {
    const transport = memoryTransport();
    const writer = new MemcachedClient({ transport, servers: one });
    const other = new MemcachedClient({ transport, servers: one });
    await writer.set('k', 'v1', { dependencies: ['d'] });
    await other.invalidate(undefined, { dependencies: ['d'] });
    expect(await other.query('k')).toBeUndefined();
    await sleep(150);
    expect(await writer.set('k', 'v2', { dependencies: ['d'] })).not.toBeNull();
    expect(await writer.query('k')).toBe('v2');
    expect(await other.query('k')).toBe('v2');
    // And tied to the current token: invalidating the dependency again kills it.
    await other.invalidate(undefined, { dependencies: ['d'] });
    expect(await writer.query('k')).toBeUndefined();
    await Promise.all([writer.close(), other.close()]);
  });
});
