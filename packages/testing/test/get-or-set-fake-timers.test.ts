/**
 * Users test their own read-through code in memory with fake timers: lifetimes, grace, lease waits and
 * timeouts all move with vitest's clock, no real waiting.
 */
import { CacheError } from '@lovely-memcached/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestMemcachedClient } from '../src';

describe('getOrSet on TestMemcachedClient with fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('moves through fresh, stale within grace, and gone with the fake clock', async () => {
    const cache = new TestMemcachedClient();
    let version = 0;
    const render = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1000)); // a slow render, on the fake clock
      return `page v${++version}`;
    });
    const first = cache.getOrSet('/about', render, { lifetime: 60, grace: 600 });
    await vi.advanceTimersByTimeAsync(1000);
    await expect(first).resolves.toBe('page v1');

    await vi.advanceTimersByTimeAsync(30_000);
    await expect(
      cache.getOrSet('/about', render, { lifetime: 60, grace: 600, earlyRefresh: 0 }),
    ).resolves.toBe('page v1');
    expect(render).toHaveBeenCalledTimes(1);

    await vi.advanceTimersByTimeAsync(31_000); // stale now, within grace
    await expect(cache.query('/about')).resolves.toBeUndefined();
    await expect(cache.getOrSet('/about', render, { lifetime: 60, grace: 600 })).resolves.toBe('page v1');
    await vi.advanceTimersByTimeAsync(1000); // the background refresh finishes
    await expect(cache.query('/about')).resolves.toBe('page v2');

    await vi.advanceTimersByTimeAsync(700_000); // past lifetime and grace: memcached dropped it
    const cold = cache.getOrSet('/about', render, { lifetime: 60, grace: 600 });
    await vi.advanceTimersByTimeAsync(1000);
    await expect(cold).resolves.toBe('page v3');
    await cache.close();
  });

  it('a hung lease holder blocks another client for lockTimeout of fake time, and hardTimeout fires', async () => {
    const holder = new TestMemcachedClient({ defaultNS: 'app' });
    const other = new TestMemcachedClient({ defaultNS: 'app', transport: holder.memory });
    const hung = holder.getOrSet('k', () => new Promise<string>(() => {}), { hardTimeout: 10_000 });
    const hungOutcome = hung.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10);
    let answered: string | undefined;
    const waiting = other
      .getOrSet('k', () => 'computed', { lockTimeout: 2000 })
      .then((v) => {
        answered = v;
      });
    await vi.advanceTimersByTimeAsync(1500);
    expect(answered).toBeUndefined();
    await vi.advanceTimersByTimeAsync(600);
    await waiting;
    expect(answered).toBe('computed');
    await vi.advanceTimersByTimeAsync(10_000);
    const error = await hungOutcome;
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe('ERR_FACTORY_TIMEOUT');
    await Promise.all([holder.close(), other.close()]);
  });
});
