import { TestMemcachedClient } from '@lovely-memcached/testing';
import { describe, expect, it } from 'vitest';
import { type BusError, defaultBus, InvalidateCacheEvent, InvalidationBus, invalidateCache } from '../src';

function busWith(...names: string[]) {
  const bus = new InvalidationBus();
  const clients = names.map((name) => {
    const client = new TestMemcachedClient();
    bus.register(name, client);
    return client;
  });
  const errors: BusError[] = [];
  bus.onError((error) => errors.push(error));
  return { bus, clients, errors };
}

describe('InvalidationBus', () => {
  it('changes nothing while no handler is subscribed', async () => {
    const { bus, clients } = busWith('a');
    await clients[0]?.set('k', 'v', { dependencies: ['d'] });
    await bus.notify(new InvalidateCacheEvent({ dependencies: ['d'] }));
    expect(await clients[0]?.query('k')).toBe('v');
  });

  it('subscribing a handler twice calls it once', async () => {
    const bus = new InvalidationBus();
    const calls: InvalidateCacheEvent[] = [];
    const handler = (event: InvalidateCacheEvent) => {
      calls.push(event);
    };
    bus.on(handler).on(handler);
    await bus.notify(new InvalidateCacheEvent({ key: 'k' }));
    expect(calls).toHaveLength(1);
    bus.off(handler);
    await bus.notify(new InvalidateCacheEvent({ key: 'k' }));
    expect(calls).toHaveLength(1);
  });

  it('calls handlers with the event and the bus, and waits for their promises', async () => {
    const bus = new InvalidationBus();
    const seen: unknown[] = [];
    bus.on(async (event, deliveredBy) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      seen.push([event.key, deliveredBy]);
    });
    await bus.notify(new InvalidateCacheEvent({ key: 'k' }));
    expect(seen).toEqual([['k', bus]]);
  });

  it('reports failing handlers instead of rejecting notify', async () => {
    const { bus, errors } = busWith();
    bus.on(() => {
      throw new Error('sync boom');
    });
    bus.on(async () => {
      throw new Error('async boom');
    });
    await expect(bus.notify(new InvalidateCacheEvent({ key: 'k' }))).resolves.toBeUndefined();
    expect(errors.map((e) => [e.type, e.message])).toEqual([
      ['handler-failed', 'an invalidation handler failed: sync boom'],
      ['handler-failed', 'an invalidation handler failed: async boom'],
    ]);
  });

  it('keeps one defaultBus per process under a Symbol.for key', () => {
    const key = Symbol.for('lovely-memcached.defaultBus');
    expect((globalThis as Record<symbol, unknown>)[key]).toBe(defaultBus);
    expect(defaultBus).toBeInstanceOf(InvalidationBus);
  });
});

describe('invalidateCache', () => {
  it('invalidates in every registered client, or only the one named', async () => {
    const { bus, clients } = busWith('one', 'two');
    const [one, two] = clients as [TestMemcachedClient, TestMemcachedClient];
    bus.on(invalidateCache);
    await one.set('k', 1, { dependencies: ['d'] });
    await two.set('k', 2, { dependencies: ['d'] });
    await bus.notify(new InvalidateCacheEvent({ cacheName: 'one', dependencies: ['d'] }));
    expect([await one.query('k'), await two.query('k')]).toEqual([undefined, 2]);
    await bus.notify(new InvalidateCacheEvent({ key: 'k' }));
    expect(await two.query('k')).toBeUndefined();
  });

  it('reports an unknown cacheName and touches no client', async () => {
    const { bus, clients, errors } = busWith('one');
    bus.on(invalidateCache);
    await clients[0]?.set('k', 1);
    await bus.notify(new InvalidateCacheEvent({ cacheName: 'nope', key: 'k' }));
    expect(await clients[0]?.query('k')).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ type: 'unknown-cache', cacheName: 'nope' });
    expect(errors[0]?.message).toContain('"nope"');
  });

  it('a failing client does not stop the others, and is reported', async () => {
    const { bus, clients, errors } = busWith('good');
    bus.register('broken', {
      invalidate: async () => {
        throw new Error('connection lost');
      },
    });
    bus.register('late', { invalidate: () => new Promise((resolve) => setTimeout(resolve, 20)) });
    bus.on(invalidateCache);
    await clients[0]?.set('k', 1);
    await expect(bus.notify(new InvalidateCacheEvent({ key: 'k' }))).resolves.toBeUndefined();
    expect(await clients[0]?.query('k')).toBeUndefined();
    expect(errors.map((e) => [e.type, 'cacheName' in e ? e.cacheName : undefined])).toEqual([
      ['invalidate-failed', 'broken'],
    ]);
  });

  it('passes key, ns and raw through', async () => {
    const { bus, clients } = busWith('one');
    bus.on(invalidateCache);
    await clients[0]?.set('a', 'v', { raw: true, ns: 'NS_' });
    await bus.notify(new InvalidateCacheEvent({ key: 'a', ns: 'NS_' }));
    expect(await clients[0]?.query('a', { raw: true, ns: 'NS_' })).toBe('v');
    await bus.notify(new InvalidateCacheEvent({ key: 'a', ns: 'NS_', raw: true }));
    expect(await clients[0]?.query('a', { raw: true, ns: 'NS_' })).toBeUndefined();
  });
});
