/**
 * `getOrSet` behaviours, run over the memory transport and over a real memcached (same tests, same asserts).
 * Clients get an offset clock, so "the lifetime has passed" needs no sleeping: memcached keeps the entry for
 * lifetime + grace seconds of real time, the client judges freshness by its own clock.
 */
import { CacheError, MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureWarnings } from './support/expected-warnings';
import { trackUnhandledRejections } from './support/unhandled-rejections';

export interface GetOrSetSetup {
  transport: TransportFactory;
  servers: string[];
  /** An address where nothing answers (for the down-server case). */
  unreachable: string;
  /**
   * The servers expire items on a millisecond clock (the memory transport). memcached's clock ticks whole
   * seconds: an item stored with a 1 s exptime may be gone after anything from 0 to 1 s.
   */
  exactExpiry?: boolean;
  teardown(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function describeGetOrSet(name: string, setup: () => Promise<GetOrSetSetup>): void {
  describe(`getOrSet over ${name}`, () => {
    let env: GetOrSetSetup;
    let offset = 0;
    const clients: MemcachedClient[] = [];
    const unhandled = trackUnhandledRejections();
    const client = (options: { servers?: string[] } = {}) => {
      const made = new MemcachedClient({
        transport: env.transport,
        servers: options.servers ?? env.servers,
        defaultNS: `gos-${Math.random().toString(36).slice(2)}`,
        now: () => Date.now() + offset,
      });
      clients.push(made);
      return made;
    };
    /** Clients sharing one namespace: like processes of one application. */
    const pair = (count = 2) => {
      const ns = `gos-${Math.random().toString(36).slice(2)}`;
      return Array.from({ length: count }, () => {
        const made = new MemcachedClient({
          transport: env.transport,
          servers: env.servers,
          defaultNS: ns,
          now: () => Date.now() + offset,
        });
        clients.push(made);
        return made;
      });
    };

    beforeAll(async () => {
      env = await setup();
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await env.teardown();
    });

    it('computes a cold key once, stores it, and serves hits without calling the factory', async () => {
      const cache = client();
      let calls = 0;
      const factory = async () => ({ n: ++calls });
      await expect(cache.getOrSet('k', factory)).resolves.toEqual({ n: 1 });
      await expect(cache.getOrSet('k', factory)).resolves.toEqual({ n: 1 });
      await expect(cache.query('k')).resolves.toEqual({ n: 1 });
      expect(calls).toBe(1);
    });

    it('runs one factory for 50 concurrent callers of one client (single flight)', async () => {
      const cache = client();
      let calls = 0;
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          cache.getOrSet('hot', async () => {
            calls++;
            await sleep(50);
            return `value-${calls}`;
          }),
        ),
      );
      expect(calls).toBe(1);
      expect(new Set(results)).toEqual(new Set(['value-1']));
    });

    it('runs one factory across clients sharing the servers (lease), the others wait for its value', async () => {
      const group = pair(4);
      let calls = 0;
      const results = await Promise.all(
        group.flatMap((cache) =>
          Array.from({ length: 10 }, () =>
            cache.getOrSet('shared', async () => {
              calls++;
              await sleep(150);
              return `computed-${calls}`;
            }),
          ),
        ),
      );
      expect(calls).toBe(1);
      expect(new Set(results)).toEqual(new Set(['computed-1']));
    });

    it('serves a stale value within grace at once while one caller refreshes it; query treats it as a miss', async () => {
      const [a, b] = pair(2) as [MemcachedClient, MemcachedClient];
      let version = 0;
      const factory = async () => {
        version++;
        await sleep(100);
        return `v${version}`;
      };
      await a.getOrSet('page', factory, { lifetime: 10, grace: 600 });
      offset += 11_000; // past the lifetime, within grace
      try {
        await expect(b.query('page')).resolves.toBeUndefined();
        const started = performance.now();
        const served = await Promise.all([
          a.getOrSet('page', factory, { lifetime: 10, grace: 600 }),
          b.getOrSet('page', factory, { lifetime: 10, grace: 600 }),
        ]);
        expect(performance.now() - started).toBeLessThan(90); // did not wait for the 100 ms factory
        expect(served).toEqual(['v1', 'v1']);
        await sleep(250);
        expect(version).toBe(2); // one refresh, anywhere
        await expect(b.query('page')).resolves.toBe('v2');
        await expect(b.getOrSet('page', factory, { lifetime: 10, grace: 600 })).resolves.toBe('v2');
      } finally {
        offset -= 11_000;
      }
    });

    it('soft timeout: with a stale value, waits that long for the refresh, then answers stale', async () => {
      const cache = client();
      await cache.getOrSet('soft', () => 'old', { lifetime: 10, grace: 600 });
      offset += 11_000;
      try {
        const slow = () => sleep(300).then(() => 'new');
        const started = performance.now();
        await expect(cache.getOrSet('soft', slow, { lifetime: 10, grace: 600, timeout: 30 })).resolves.toBe(
          'old',
        );
        expect(performance.now() - started).toBeLessThan(250);
        // A fast refresh within the soft timeout is answered fresh.
        await sleep(400);
        offset += 11_000;
        const fast = () => 'newest';
        await expect(cache.getOrSet('soft', fast, { lifetime: 10, grace: 600, timeout: 200 })).resolves.toBe(
          'newest',
        );
      } finally {
        offset -= 22_000;
      }
    });

    it('hard timeout: rejects with ERR_FACTORY_TIMEOUT, aborts the signal, stores nothing', async () => {
      const cache = client();
      let signal: AbortSignal | undefined;
      const error = await cache
        .getOrSet(
          'hard',
          (context) => {
            signal = context.signal;
            return new Promise<string>(() => {});
          },
          { hardTimeout: 50 },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheError);
      expect((error as CacheError).code).toBe('ERR_FACTORY_TIMEOUT');
      expect(signal?.aborted).toBe(true);
      await expect(cache.query('hard')).resolves.toBeUndefined();
    });

    it('early refresh (XFetch): a hit close to its end is refreshed in the background', async () => {
      const cache = client();
      let calls = 0;
      const factory = async () => {
        calls++;
        await sleep(40);
        return `e${calls}`;
      };
      await cache.getOrSet('early', factory, { lifetime: 60 });
      // 59.9 s later a 40 ms factory is well within reach of a large beta; the hit answers the old value.
      offset += 59_900;
      try {
        await expect(cache.getOrSet('early', factory, { lifetime: 60, earlyRefresh: 1000 })).resolves.toBe(
          'e1',
        );
        await sleep(150);
        expect(calls).toBe(2);
        await expect(cache.query('early')).resolves.toBe('e2');
        // With early refresh off, a hit never recomputes.
        await cache.getOrSet('early', factory, { lifetime: 60, earlyRefresh: 0 });
        await sleep(80);
        expect(calls).toBe(2);
      } finally {
        offset -= 59_900;
      }
    });

    it("a factory's error rejects exactly its waiters with the same error and caches nothing", async () => {
      const [a, b] = pair(2) as [MemcachedClient, MemcachedClient];
      const failure = new Error('database down');
      let calls = 0;
      const failing = async (): Promise<string> => {
        calls++;
        await sleep(60);
        throw failure;
      };
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: 5 }, () => a.getOrSet('fails', failing, { lockTimeout: 400 })),
      ]);
      expect(calls).toBe(1);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBe(failure);
      }
      await expect(b.query('fails')).resolves.toBeUndefined();
      await expect(b.getOrSet('fails', () => 'recovered')).resolves.toBe('recovered');
    });

    it('with a stale value in grace, a failing refresh serves the stale value and nothing escapes', async () => {
      const cache = client();
      await cache.getOrSet('sturdy', () => 'good', { lifetime: 10, grace: 600 });
      offset += 11_000;
      try {
        const failing = async (): Promise<string> => {
          await sleep(20);
          throw new Error('refresh failed');
        };
        await expect(cache.getOrSet('sturdy', failing, { lifetime: 10, grace: 600 })).resolves.toBe('good');
        await expect(
          cache.getOrSet('sturdy', failing, { lifetime: 10, grace: 600, timeout: 500 }),
        ).resolves.toBe('good');
        await sleep(100);
        expect(unhandled.reasons).toEqual([]);
      } finally {
        offset -= 11_000;
      }
    });

    it('a lease holder that hangs holds the others back at most lockTimeout; then they compute', async () => {
      const [holder, other] = pair(2) as [MemcachedClient, MemcachedClient];
      void holder.getOrSet('hung', () => new Promise<string>(() => {}), { lockTimeout: 300 }).catch(() => {});
      await sleep(30); // the holder has taken the lease
      const started = performance.now();
      await expect(other.getOrSet('hung', () => 'computed anyway', { lockTimeout: 300 })).resolves.toBe(
        'computed anyway',
      );
      const waited = performance.now() - started;
      // memcached guarantees the upper bound only: the lease (an item with a 1 s exptime) may end at its
      // whole-second clock's next tick, any time before lockTimeout, and the other computes then.
      if (env.exactExpiry) expect(waited).toBeGreaterThanOrEqual(200);
      expect(waited).toBeLessThan(1500);
    });

    it('a down server never makes anyone wait: the factory runs and its value is returned', async () => {
      // A network transport says once that none of its servers ever answered: expected here.
      const warnings = captureWarnings('LOVELY_MEMCACHED_UNREACHABLE');
      try {
        const cache = client({ servers: [env.unreachable] });
        let calls = 0;
        const started = performance.now();
        const values = await Promise.all(
          Array.from({ length: 5 }, () => cache.getOrSet('nowhere', () => `fresh-${++calls}`)),
        );
        expect(values).toEqual(Array.from({ length: 5 }, () => 'fresh-1'));
        expect(performance.now() - started).toBeLessThan(1500);
        // Down now and known to be: answered without a deadline's wait.
        const again = performance.now();
        await expect(cache.getOrSet('nowhere', () => 'again')).resolves.toBe('again');
        expect(performance.now() - again).toBeLessThan(100);
      } finally {
        warnings.restore();
      }
    });

    it('no stale set: a dependency invalidated while the factory runs makes its result dead for everyone else', async () => {
      const [a, b] = pair(2) as [MemcachedClient, MemcachedClient];
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started: () => void = () => {};
      const factoryStarted = new Promise<void>((resolve) => {
        started = resolve;
      });
      const computing = a.getOrSet(
        'report',
        async () => {
          started();
          await gate;
          return 'built from old data';
        },
        { dependencies: ['user:42'], grace: 600 },
      );
      await factoryStarted; // its tokens were taken before it started (on a loaded machine, that can take a while)
      await b.invalidate(undefined, { dependencies: ['user:42'] });
      release();
      // The waiter gets what it waited for...
      await expect(computing).resolves.toBe('built from old data');
      // ...but nobody is served it afterwards, fresh or as stale within grace.
      await expect(b.query('report')).resolves.toBeUndefined();
      await expect(a.query('report')).resolves.toBeUndefined();
      await expect(
        b.getOrSet('report', () => 'rebuilt', { dependencies: ['user:42'], grace: 600 }),
      ).resolves.toBe('rebuilt');
    });

    it('invalidated entries are never served as stale, whatever grace says', async () => {
      const cache = client();
      await cache.getOrSet('tagged', () => 'before', { lifetime: 10, grace: 600, dependencies: ['d'] });
      offset += 11_000;
      try {
        await cache.invalidate(undefined, { dependencies: ['d'] });
        await expect(
          cache.getOrSet('tagged', () => 'after', { lifetime: 10, grace: 600, dependencies: ['d'] }),
        ).resolves.toBe('after');
      } finally {
        offset -= 11_000;
      }
    });

    it('rejects bad options with a CacheError before the factory runs', async () => {
      const cache = client();
      let calls = 0;
      const factory = () => ++calls;
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ lifetime: -1 }, 'ERR_INVALID_LIFETIME'],
        [{ grace: Number.NaN }, 'ERR_INVALID_LIFETIME'],
        [{ lockTimeout: 0 }, 'ERR_INVALID_OPTION'],
        [{ timeout: -5 }, 'ERR_INVALID_OPTION'],
        [{ hardTimeout: Number.POSITIVE_INFINITY }, 'ERR_INVALID_OPTION'],
        [{ earlyRefresh: -1 }, 'ERR_INVALID_OPTION'],
      ];
      for (const [options, code] of cases) {
        await expect(cache.getOrSet('bad', factory, options)).rejects.toMatchObject({ code });
      }
      await expect(cache.getOrSet('bad', 'not a function' as unknown as () => number)).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTION',
      });
      expect(calls).toBe(0);
      await expect(cache.query('bad')).resolves.toBeUndefined();
    });
  });
}

export { sleep };
