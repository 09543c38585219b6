/**
 * The seed's "Invalidationevents" section, step by step: a named client registered on a bus, the stock
 * `invalidateCache` handler, and events invalidating in all clients or only the named one.
 */
import type { MemcachedClient } from '@lovely-memcached/core';
import { InvalidateCacheEvent, InvalidationBus, invalidateCache } from '@lovely-memcached/events';
import { TestMemcachedClient } from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export function describeEventsSeed(
  name: string,
  setup: () => Promise<{ cacheUtil1: MemcachedClient; teardown(): Promise<void> }>,
): void {
  describe(`seed invalidation events with ${name}`, () => {
    let cacheUtil1: MemcachedClient;
    let teardown: () => Promise<void>;
    const bus = new InvalidationBus();

    beforeAll(async () => {
      ({ cacheUtil1, teardown } = await setup());
    });
    afterAll(async () => {
      await teardown();
    });

    it('walks through the seed', async () => {
      // >>> component.provideUtility(cacheUtil1, IMemcachedClient, name='cacheUtil1')
      bus.register('cacheUtil1', cacheUtil1);
      expect(await cacheUtil1.set('key1', 'Value1', { dependencies: ['dep1'] })).toMatch(/^[0-9a-f]{32}$/);
      expect(await cacheUtil1.query('key1')).toBe('Value1');

      // Before provideHandler(invalidateCache), notify changes nothing.
      await bus.notify(new InvalidateCacheEvent({ dependencies: ['dep1'] }));
      expect(await cacheUtil1.query('key1')).toBe('Value1');

      // >>> component.provideHandler(invalidateCache); event.notify(InvalidateCacheEvent(dependencies=['dep1']))
      bus.on(invalidateCache);
      await bus.notify(new InvalidateCacheEvent({ dependencies: ['dep1'] }));
      expect(await cacheUtil1.query('key1')).toBeUndefined();

      // With more than one memcache utility we can invalidate in all utilities.
      const cacheUtil2 = new TestMemcachedClient();
      bus.register('cacheUtil2', cacheUtil2);
      await cacheUtil1.set('key1', 'Value1', { raw: true, dependencies: ['dep1'] });
      await cacheUtil2.set('key2', 'Value2', { dependencies: ['dep1'] });
      await bus.notify(new InvalidateCacheEvent({ dependencies: ['dep1'] }));
      expect(await cacheUtil1.query('key1', { raw: true })).toBeUndefined();
      expect(await cacheUtil2.query('key2')).toBeUndefined();

      // Or we specify in which memcache we want to invalidate.
      await cacheUtil1.set('key1', 'Value1', { raw: true, dependencies: ['dep1'] });
      await cacheUtil2.set('key2', 'Value2', { dependencies: ['dep1'] });
      await bus.notify(new InvalidateCacheEvent({ cacheName: 'cacheUtil1', dependencies: ['dep1'] }));
      expect(await cacheUtil1.query('key1', { raw: true })).toBeUndefined();
      expect(await cacheUtil2.query('key2')).toBe('Value2');

      // Namespaces: the event's ns (else each client's defaultNS) is where the dependency is invalidated.
      await cacheUtil1.set('key1', 'Value1', { ns: 'test', raw: false, dependencies: ['dep1'] });
      expect(await cacheUtil1.query('key1', { ns: 'test', raw: false })).toBe('Value1');
      await bus.notify(new InvalidateCacheEvent({ cacheName: 'cacheUtil1', dependencies: ['dep1'] }));
      expect(await cacheUtil1.query('key1', { ns: 'test', raw: false })).toBe('Value1');
      await bus.notify(
        new InvalidateCacheEvent({ cacheName: 'cacheUtil1', ns: 'test', dependencies: ['dep1'] }),
      );
      expect(await cacheUtil1.query('key1', { ns: 'test', raw: false })).toBeUndefined();
      await cacheUtil2.close();
    });
  });
}
