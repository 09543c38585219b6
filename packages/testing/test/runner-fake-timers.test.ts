/**
 * Jest's `jest.useFakeTimers()` fakes `queueMicrotask`, `process.nextTick` and `setImmediate` besides the timers
 * and `Date` (vitest's default leaves the first two alone). Nothing the client does between a call and its answer
 * may wait on those: a call must settle while the fake clock stands still, and expiry must follow the fake `Date`.
 * (vitest cannot fake `nextTick` in its forks pool: the network transports' tick ends are covered in
 * packages/transport-kit/test/tick-writer.test.ts.) The consumer test runs the same under Jest itself
 * (test/consumer/consumer.integration.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestMemcachedClient } from '../src';

describe("TestMemcachedClient with every API Jest's default fake timers fake", () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: [
        'Date',
        'hrtime',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers set, query, batched queries, keys, dependencies and getOrSet without the clock moving', async () => {
    const cache = new TestMemcachedClient({ trackKeys: true });
    await cache.set('k', 'v', { lifetime: 1, dependencies: ['d'] });
    expect(await cache.query('k')).toBe('v');
    expect(await Promise.all([cache.query('k'), cache.query('other')])).toEqual(['v', undefined]);
    expect(await cache.keys()).toEqual(['k']);
    expect(await cache.getOrSet('g', async () => 'computed', { lifetime: 1 })).toBe('computed');
    await cache.invalidate(undefined, { dependencies: ['d'] });
    expect(await cache.query('k')).toBeUndefined();
    await cache.close();
  });

  it('an entry set with a lifetime is gone once the fake clock moved past it', async () => {
    const cache = new TestMemcachedClient();
    await cache.set('k', 'v', { lifetime: 1 });
    vi.advanceTimersByTime(900);
    expect(await cache.query('k')).toBe('v');
    vi.advanceTimersByTime(200);
    expect(await cache.query('k')).toBeUndefined();
    await cache.close();
  });
});
