/**
 * The original lovely.memcached README walkthrough, step by step, as a suite any transport can run.
 * Each block quotes the seed's doctest lines it translates (`set(value, key)` became `set(key, value, options)`).
 */
import {
  InvalidKeyError,
  KeyTrackingDisabledError,
  MemcachedClient,
  type MemcachedClientOptions,
  type TransportFactory,
} from '@lovely-memcached/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureWarnings } from './support/expected-warnings';

export interface SeedHarness {
  transport: TransportFactory;
  /** The servers of the store under test (the seed's 127.0.0.1:11211). */
  servers: string[];
  /** An address where no server answers (the seed's 127.0.0.1:8125). */
  unreachable: string;
  /** Lets `ms` milliseconds pass for expiry: a fake clock, or a real sleep. */
  elapse(ms: number): Promise<void>;
  /** Starts answering at `unreachable` (a real server there, or the fake brought up). */
  bringBackUnreachable(): Promise<void>;
  teardown(): Promise<void>;
}

const sorted = (keys: unknown[]) => [...keys].sort((a, b) => String(a).localeCompare(String(b)));

export function describeSeedWalkthrough(name: string, setup: () => Promise<SeedHarness>): void {
  describe(`seed walkthrough over ${name}`, () => {
    let h: SeedHarness;
    const clients: MemcachedClient[] = [];
    const client = (options: Partial<MemcachedClientOptions> = {}) => {
      const made = new MemcachedClient({ transport: h.transport, servers: h.servers, ...options });
      clients.push(made);
      return made;
    };
    let util: MemcachedClient;

    beforeAll(async () => {
      h = await setup();
      util = client();
      await util.invalidateAll();
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await h.teardown();
    });

    it('has the seed defaults', async () => {
      // >>> util = MemcachedClient(); util.servers -> ['127.0.0.1:11211']; util.defaultLifetime -> 3600
      const defaults = new MemcachedClient({ transport: h.transport });
      expect(defaults.servers).toEqual(['127.0.0.1:11211']);
      expect(defaults.defaultLifetime).toBe(3600);
      expect(defaults.defaultNS).toBeNull();
      expect(defaults.trackKeys).toBe(false);
      await defaults.close();
      expect(util.servers).toEqual(h.servers);
    });

    it('sets, queries, invalidates and flushes', async () => {
      // >>> util.set('cached value', 'cache_key') -> '188693688126b424eb89e1385eca6f01'
      const key = await util.set('cache_key', 'cached value');
      expect(key).toMatch(/^[0-9a-f]{32}$/);
      expect(await util.query('cache_key')).toBe('cached value');
      // >>> util.invalidate('cache_key'); util.query('cache_key') is None
      await util.invalidate('cache_key');
      expect(await util.query('cache_key')).toBeUndefined();
      // >>> key = util.set(u'cached value ', 'cache_key')
      expect(await util.set('cache_key', 'cached value ü ')).toBe(key);
      expect(await util.query('cache_key')).toBe('cached value ü ');
      // >>> util.invalidateAll(); util.query('cache_key') is None
      await util.invalidateAll();
      expect(await util.query('cache_key')).toBeUndefined();
    });

    it('keeps namespaces apart, and invalidateAll drops them all', async () => {
      const util1 = client({ defaultNS: '1' });
      const util2 = client({ defaultNS: '2' });
      await util1.set(1, 1);
      await util2.set(2, 2);
      expect(await util1.query(1)).toBe(1);
      expect(await util1.query(2)).toBeUndefined();
      expect(await util1.query(2, { ns: '2' })).toBe(2);
      expect(await util2.query(2)).toBe(2);
      expect(await util2.query(1)).toBeUndefined();
      await util1.invalidateAll();
      expect(await util1.query(1)).toBeUndefined();
      expect(await util2.query(2)).toBeUndefined();
      // >>> util1.keys() -> NotImplementedError: trackKeys not enabled
      await expect(util1.keys()).rejects.toThrow(KeyTrackingDisabledError);
      await expect(util1.keys()).rejects.toThrow(/trackKeys not enabled/);
    });

    it('tracks keys across clients, expiry, namespaces and invalidation', async () => {
      const util3 = client({ trackKeys: true });
      await util3.set(1, 1);
      expect(sorted(await util3.keys())).toEqual([1]);
      await util3.set(2, 2);
      expect(sorted(await util3.keys())).toEqual([1, 2]);

      // The seed's second thread: another connection with its own uid sees and adds to the same keys.
      const other = client({ trackKeys: true });
      await other.set(3, 3);
      expect(sorted(await other.keys())).toEqual([1, 2, 3]);
      expect(other.uid).toMatch(/^[^-]+-[^-]+-[^-]+/);
      expect(other.uid).not.toBe(util3.uid);
      const util4 = client({ trackKeys: true });
      expect(util4.uid).not.toBe(other.uid);

      // >>> k = util3.set(4, 4, lifetime=1) ... time.sleep(2)
      await util3.set(4, 4, { lifetime: 1 });
      expect(sorted(await util3.keys())).toEqual([1, 2, 3, 4]);
      await h.elapse(2100);
      expect(sorted(await util3.keys())).toEqual([1, 2, 3]);
      expect(await util3.query(4)).toBeUndefined();

      // >>> k = util3.set(5, 5, ns=u'3')
      await util3.set(5, 5, { ns: '3' });
      expect(sorted(await util3.keys())).toEqual([1, 2, 3]);
      expect(sorted(await util3.keys('3'))).toEqual([5]);
      expect(sorted(await util4.keys('3'))).toEqual([5]);

      // >>> util3.invalidate(1)
      await util3.invalidate(1);
      expect(sorted(await util3.keys())).toEqual([2, 3]);
    });

    it('uses raw keys as they are, with the namespace prepended', async () => {
      // >>> util.set('value of a', u'a', raw=True) -> ValueError
      await expect(util.set(1, 'value of a', { raw: true })).rejects.toThrow(InvalidKeyError);
      await expect(util.set('a b', 'value of a', { raw: true })).rejects.toThrow(/"a b"/);
      expect(await util.set('a', 'value of a', { raw: true })).toBe('a');
      // >>> util.set('value of a', 'a', ns=u'NS_', raw=True) -> ValueError: u'NS_a'
      await expect(util.set('a', 'value of a', { ns: 1 as unknown as string, raw: true })).rejects.toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
      );
      expect(await util.set('a', 'value of a', { ns: 'NS_', raw: true })).toBe('NS_a');

      expect(await util.query('a', { raw: true })).toBe('value of a');
      expect(await util.query('a', { raw: false })).toBeUndefined();
      expect(await util.query('NS_a', { raw: true })).toBe('value of a');

      // >>> util.invalidate('a') leaves the raw key; util.invalidate('a', raw=True) removes it
      await util.invalidate('a');
      expect(await util.query('a', { raw: true })).toBe('value of a');
      await util.invalidate('a', { raw: true });
      expect(await util.query('a', { raw: true })).toBeUndefined();
    });

    it('invalidates by dependency, in the namespace of the call only', async () => {
      const util5 = client();
      const key1 = await util5.set('key1', 'data1', { dependencies: ['something'] });
      expect(await util5.set('key2', 'data2', { dependencies: ['something'], raw: true })).toBe('key2');

      // >>> util5.query(depKey, raw=True) -> ('19192ccdbb8267c35b9bdaf2f1f5594b', 'key2')
      expect(sorted(await util5.dependents('something'))).toEqual(sorted([key1, 'key2']));
      expect(await util5.query('key1')).toBe('data1');
      expect(await util5.query('key2', { raw: true })).toBe('data2');

      // >>> util.invalidate(dependencies=['otherthing']) keeps entries and the dependency list
      await util.invalidate(undefined, { dependencies: ['otherthing'] });
      expect(await util5.query('key1')).toBe('data1');
      expect(await util5.query('key2', { raw: true })).toBe('data2');
      expect(sorted(await util5.dependents('something'))).toEqual(sorted([key1, 'key2']));

      // >>> util.invalidate(dependencies=['something', 'another thing'])
      await util.invalidate(undefined, { dependencies: ['something', 'another thing'] });
      expect(await util5.query('key1')).toBeUndefined();
      expect(await util5.query('key2', { raw: true })).toBeUndefined();
      expect(await util5.dependents('something')).toEqual([]);

      // >>> k = util5.set('data3', 'key3', ns='1', dependencies=['something'])
      await util5.set('key3', 'data3', { ns: '1', dependencies: ['something'] });
      await util.invalidate(undefined, { dependencies: ['something'] });
      expect(await util5.query('key3', { ns: '1' })).toBe('data3');
      await util.invalidate(undefined, { ns: '1', dependencies: ['something'] });
      expect(await util5.query('key3', { ns: '1' })).toBeUndefined();
    });

    it('reports statistics per server', async () => {
      // >>> util.getStatistics() -> [('127.0.0.1:11211 (1)', {...'total_items':...])]
      const stats = await util.getStatistics();
      expect(stats.map(([label]) => label)).toEqual(h.servers.map((server) => `${server} (1)`));
      for (const [, values] of stats) {
        expect(values.total_items).toMatch(/^\d+$/);
        expect(values.curr_items).toMatch(/^\d+$/);
        expect(values.get_hits).toMatch(/^\d+$/);
      }
    });

    it('keeps working without a server, and uses it again once it is back', async () => {
      // >>> util.servers = ['127.0.0.1:8125']
      // A network transport says once that none of its servers ever answered: expected here.
      const warnings = captureWarnings('LOVELY_MEMCACHED_UNREACHABLE');
      try {
        util.servers = [h.unreachable];
        expect(util.servers).toEqual([h.unreachable]);
        expect(await util.set('cache_object', 'cached value')).toBeNull();
        expect(await util.query('cache_object')).toBeUndefined();
        expect(await util.set('ignored', 'notStored')).toBeNull();
        expect(await util.getStatistics()).toEqual([]);
        await util.invalidate('cache_object');
        await util.invalidateAll();
      } finally {
        warnings.restore();
      }

      // "As soon as a server is back online it will immediately used."
      await h.bringBackUnreachable();
      const deadline = Date.now() + 3000;
      let stored: string | null = null;
      while (stored === null && Date.now() < deadline) {
        stored = await util.set('cache_object', 'cached value');
        if (stored === null) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(stored).not.toBeNull();
      expect(await util.query('cache_object')).toBe('cached value');
    });
  });
}
