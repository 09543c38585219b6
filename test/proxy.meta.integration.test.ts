/**
 * Behind a proxy: twemproxy (`nutcracker`, apt-get install nutcracker) routing by ketama over three memcached,
 * all started here, and clients that know only the proxy's address (`metaTransport({ proxy: true })`, classic
 * commands). Sets, queries, dependencies, key tracking and getOrSet work through it, the keys land on all three
 * servers, and what a proxy cannot do (`stats`, `flush_all`) fails soft with an event, never a hang.
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { type MetaTransportEvent, metaTransport } from '@lovely-memcached/transport-meta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureWarnings } from './support/expected-warnings';
import { type RunningProxy, startNutcracker } from './support/nutcracker';
import { trackUnhandledRejections } from './support/unhandled-rejections';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const unhandled = trackUnhandledRejections();

describe('through twemproxy (nutcracker), ketama over three memcached', () => {
  let memcached: RunningMemcached[] = [];
  let proxy: RunningProxy;
  const clients: MemcachedClient[] = [];
  const events: MetaTransportEvent[] = [];
  const client = (options: { ns?: string; trackKeys?: boolean } = {}) => {
    const made = new MemcachedClient({
      transport: metaTransport({ proxy: true, onEvent: (event) => events.push(event) }),
      servers: [proxy.address],
      defaultNS: options.ns ?? null,
      trackKeys: options.trackKeys ?? false,
    });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    memcached = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
    proxy = await startNutcracker(memcached.map((server) => server.servers[0] as string));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await proxy?.stop();
    await Promise.all(memcached.map((server) => server.stop()));
    expect(unhandled.reasons).toEqual([]);
  });

  it('sets and queries; the keys land on all three servers', async () => {
    const cache = client({ ns: 'spread' });
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);
    expect((await Promise.all(keys.map((key, i) => cache.set(key, { i })))).every((k) => k !== null)).toBe(
      true,
    );
    expect(await Promise.all(keys.map((key) => cache.query(key)))).toEqual(keys.map((_, i) => ({ i })));
    // Asked of each memcached directly: the proxy spread the keys over all of them.
    const direct = metaTransport()(memcached.map((server) => server.servers[0] as string));
    const perServer = (await direct.stats()).map((s) => Number(s.stats.curr_items));
    await direct.close();
    expect(perServer).toHaveLength(3);
    for (const items of perServer) expect(items).toBeGreaterThan(50);
  });

  it('dependencies: invalidating one through the proxy removes every entry tied to it, from any client', async () => {
    const [a, b] = [client({ ns: 'deps' }), client({ ns: 'deps' })];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.set(`tied-${i}`, i, { dependencies: ['user:1'] })),
    );
    await a.set('free', 'stays', { dependencies: ['user:2'] });
    expect((await b.dependents('user:1')).length).toBe(20);
    await b.invalidate(undefined, { dependencies: ['user:1'] });
    expect(await Promise.all(Array.from({ length: 20 }, (_, i) => a.query(`tied-${i}`)))).toEqual(
      Array(20).fill(undefined),
    );
    expect(await a.query('free')).toBe('stays');
  });

  it('key tracking: keys() lists what every tracking client stored', async () => {
    const [a, b] = [client({ ns: 'tracked', trackKeys: true }), client({ ns: 'tracked', trackKeys: true })];
    await a.set('one', 1);
    await b.set(2, 'two');
    await a.set('gone', 3);
    await b.invalidate('gone');
    const keys = await a.keys();
    expect([...keys].sort((x, y) => String(x).localeCompare(String(y)))).toEqual([2, 'one']);
  });

  it('getOrSet: 50 concurrent callers over two clients, one factory call (add-based leases)', async () => {
    const [a, b] = [client({ ns: 'gos' }), client({ ns: 'gos' })];
    let calls = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 ? a : b).getOrSet('page', async () => {
          calls++;
          await sleep(100);
          return 'rendered';
        }),
      ),
    );
    expect(results).toEqual(Array(50).fill('rendered'));
    expect(calls).toBe(1);
  });

  it('stats and flush_all cannot go through a proxy: they answer at once with an event, never a hang', async () => {
    const cache = client({ ns: 'soft' });
    await cache.set('kept', 'still here');
    events.length = 0;
    const warnings = captureWarnings('LOVELY_MEMCACHED');
    const started = performance.now();
    try {
      expect(await cache.getStatistics()).toEqual([]);
      await cache.invalidateAll();
    } finally {
      warnings.restore();
    }
    expect(performance.now() - started).toBeLessThan(100);
    // Said once each as a process warning too, even with onEvent given: a call that does nothing.
    expect(warnings.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/stats cannot go through a proxy/),
      expect.stringMatching(/flush_all cannot go through a proxy/),
    ]);
    expect(events.map((e) => e.type === 'unsupported' && e.command)).toEqual(['stats', 'flush']);
    expect(events.every((e) => e.type === 'unsupported' && /proxy/.test(e.reason))).toBe(true);
    // Nothing was flushed (said so in the event).
    expect(await cache.query('kept')).toBe('still here');
  });

  it('meta commands sent to the proxy by mistake (no `proxy: true`): misses and not-stored, never a hang', async () => {
    const wrong: MetaTransportEvent[] = [];
    const cache = new MemcachedClient({
      transport: metaTransport({ timeout: 300, onEvent: (event) => wrong.push(event) }),
      servers: [proxy.address],
    });
    const started = performance.now();
    expect(await cache.set('k', 'v')).toBeNull();
    expect(await cache.query('k')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1500);
    expect(wrong.some((e) => e.type === 'server-down')).toBe(true);
    await cache.close();
  });
});
