/**
 * Read-through, round 2 (API.md "Read-through, round 2"): `getOrSetMany`, the factory context (`setOptions`,
 * `skip`, `dependOn`), run over the memory transport and a real memcached with both network transports.
 */
import { CacheError, type MemcachedClient } from '@lovely-memcached/core';
import { describe, expect, it } from 'vitest';
import { clientGroups, type GroupSetup } from './support/client-groups';
import { trackUnhandledRejections } from './support/unhandled-rejections';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function describeReadThroughRoundTwo(name: string, setup: () => Promise<GroupSetup>): void {
  describe(`read-through round 2 over ${name}`, () => {
    trackUnhandledRejections();
    const group = clientGroups(setup);

    it('getOrSetMany: cached keys read, one factory call with exactly the missing ones, aligned answers', async () => {
      const [cache, other] = group(2) as [MemcachedClient, MemcachedClient];
      await cache.set('user:1', { name: 'one' });
      const calls: string[][] = [];
      const load = async (missing: string[]) => {
        calls.push([...missing]);
        return missing.map((id) => (id === 'user:404' ? undefined : { name: id }));
      };
      const ids = ['user:1', 'user:2', 'user:404', 'user:3', 'user:2'];
      expect(await cache.getOrSetMany(ids, load)).toEqual([
        { name: 'one' },
        { name: 'user:2' },
        undefined,
        { name: 'user:3' },
        { name: 'user:2' },
      ]);
      expect(calls).toEqual([['user:2', 'user:404', 'user:3']]);
      // Stored for everyone, except what was not found.
      expect(await other.query('user:2')).toEqual({ name: 'user:2' });
      expect(await other.query('user:404')).toBeUndefined();
      expect(await cache.getOrSetMany(ids, load)).toHaveLength(5);
      expect(calls).toEqual([['user:2', 'user:404', 'user:3'], ['user:404']]);
    });

    it('getOrSetMany across clients: overlapping cold sets, every key computed once', async () => {
      const caches = group(4);
      const handed: string[] = [];
      const load = async (missing: string[]) => {
        handed.push(...missing);
        await sleep(80);
        return missing.map((key) => `value of ${key}`);
      };
      const sets = [
        ['a', 'b', 'c', 'd'],
        ['c', 'd', 'e', 'f'],
        ['e', 'f', 'g', 'a'],
        ['a', 'c', 'e', 'g', 'h'],
      ];
      const answers = await Promise.all(caches.map((cache, i) => cache.getOrSetMany(sets[i] ?? [], load)));
      answers.forEach((answer, i) => {
        expect(answer).toEqual((sets[i] ?? []).map((key) => `value of ${key}`));
      });
      expect(handed.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    });

    it('getOrSetMany: dependencies as a function of the key; invalidating one drops only its dependents', async () => {
      const [cache] = group(1) as [MemcachedClient];
      let version = 1;
      const load = async (missing: number[]) => missing.map((id) => `user ${id} v${version}`);
      const options = { dependencies: (id: number) => [`user:${id}`] };
      expect(await cache.getOrSetMany([1, 2], load, options)).toEqual(['user 1 v1', 'user 2 v1']);
      version = 2;
      await cache.invalidate(undefined, { dependencies: ['user:2'] });
      expect(await cache.getOrSetMany([1, 2], load, options)).toEqual(['user 1 v1', 'user 2 v2']);
    });

    it('getOrSetMany: a factory answering the wrong length rejects its callers with the lengths, caches nothing', async () => {
      const [cache] = group(1) as [MemcachedClient];
      const wrong = cache.getOrSetMany(['x', 'y', 'z'], async () => ['only one']);
      await expect(wrong).rejects.toBeInstanceOf(CacheError);
      await expect(wrong).rejects.toThrow(/array of 1 for 3 missing keys/);
      expect(await cache.query('x')).toBeUndefined();
      await expect(cache.getOrSetMany('x' as unknown as string[], async () => [])).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTION',
      });
      await expect(
        cache.getOrSetMany(['ok', () => 'not a key'] as unknown as string[], async (m) => m),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
      expect(await cache.query('ok')).toBeUndefined();
    });

    it('graceBackoff: after a failed refresh within grace, at most one factory call per backoff period, anywhere', async () => {
      const [a, b] = group(2) as [MemcachedClient, MemcachedClient];
      const options = { lifetime: 1, grace: 60, graceBackoff: 2, lockTimeout: 500 };
      expect(await a.getOrSet('feed', async () => 'good', options)).toBe('good');
      await sleep(1100); // past its lifetime: stale, within grace
      const failures: number[] = [];
      const started = Date.now();
      const failing = async (): Promise<string> => {
        failures.push(Date.now() - started);
        throw new Error('source down');
      };
      const answers: string[] = [];
      while (Date.now() - started < 5000) {
        answers.push(
          ...(await Promise.all([
            a.getOrSet('feed', failing, options),
            b.getOrSet('feed', failing, options),
          ])),
        );
        await sleep(50);
      }
      // Everyone got the stale value, never an error.
      expect(new Set(answers)).toEqual(new Set(['good']));
      // 5 s with a 2 s backoff: at most 3 refresh attempts, each at least ~2 s after the one before.
      expect(failures.length).toBeGreaterThanOrEqual(2);
      expect(failures.length).toBeLessThanOrEqual(3);
      for (let i = 1; i < failures.length; i++) {
        expect((failures[i] as number) - (failures[i - 1] as number)).toBeGreaterThan(1500);
      }
      await expect(a.getOrSet('x', async () => 'x', { graceBackoff: 'soon' as never })).rejects.toMatchObject(
        {
          code: 'ERR_INVALID_OPTION',
        },
      );
      await expect(a.getOrSet('x', async () => 'x', { jitter: 1.5 })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTION',
      });
    });

    for (const how of ['key', 'dependency', 'namespace'] as const) {
      it(`soft invalidation of a ${how}: getOrSet serves the old value within grace while one caller refreshes; query misses; without grace it is hard`, async () => {
        const [a, b] = group(2) as [MemcachedClient, MemcachedClient];
        let version = 1;
        let calls = 0;
        const factory = async () => {
          calls++;
          await sleep(50);
          return `v${version}`;
        };
        const options = { lifetime: 600, grace: 60, dependencies: ['catalog'] };
        expect(await a.getOrSet('page', factory, options)).toBe('v1');
        version = 2;
        if (how === 'key') await b.invalidate('page', { soft: true });
        else if (how === 'dependency')
          await b.invalidate(undefined, { dependencies: ['catalog'], soft: true });
        else await b.invalidateNamespace(undefined, { soft: true });
        expect(await b.query('page')).toBeUndefined();
        // At once, the old value, to every caller, while one refresh runs.
        const answers = await Promise.all([
          a.getOrSet('page', factory, options),
          b.getOrSet('page', factory, options),
        ]);
        expect(answers).toEqual(['v1', 'v1']);
        await sleep(200);
        expect(calls).toBe(2);
        expect(await b.query('page')).toBe('v2');
        expect(await a.getOrSet('page', factory, options)).toBe('v2');
        // Without grace, a soft invalidation is a hard one.
        version = 3;
        if (how === 'key') await b.invalidate('page', { soft: true });
        else if (how === 'dependency')
          await b.invalidate(undefined, { dependencies: ['catalog'], soft: true });
        else await b.invalidateNamespace(undefined, { soft: true });
        expect(await a.getOrSet('page', factory, { ...options, grace: 0 })).toBe('v3');
      });
    }

    it('soft invalidation of a key set with set(): query misses, getOrSet within grace serves it once', async () => {
      const [a] = group(1) as [MemcachedClient];
      await a.set('plain', 'old');
      await a.invalidate('plain', { soft: true });
      expect(await a.query('plain')).toBeUndefined();
      expect(await a.getOrSet('plain', async () => 'new', { grace: 30 })).toBe('old');
      await sleep(100);
      expect(await a.query('plain')).toBe('new');
      await expect(a.invalidate('plain', { soft: 'yes' as never })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTION',
      });
    });

    it('ctx.skip(): the callers get the value, nothing is cached', async () => {
      const [cache] = group(1) as [MemcachedClient];
      let calls = 0;
      const factory = async (ctx: { skip(): void }) => {
        calls++;
        ctx.skip();
        return 'uncacheable';
      };
      expect(await cache.getOrSet('token', factory)).toBe('uncacheable');
      expect(await cache.query('token')).toBeUndefined();
      expect(await cache.getOrSet('token', factory)).toBe('uncacheable');
      expect(calls).toBe(2);
    });

    it('ctx.setOptions(): the lifetime decided by the factory is the one stored', async () => {
      const [cache] = group(1) as [MemcachedClient];
      const factory = async (ctx: { setOptions(o: { lifetime?: number | string }): void }) => {
        ctx.setOptions({ lifetime: '1s' });
        return 'short-lived';
      };
      expect(await cache.getOrSet('expiring', factory, { lifetime: 3600 })).toBe('short-lived');
      expect(await cache.query('expiring')).toBe('short-lived');
      await sleep(2100); // memcached counts whole seconds
      expect(await cache.query('expiring')).toBeUndefined();
      await expect(
        cache.getOrSet('bad', async (ctx) => {
          ctx.setOptions({ lifetime: -1 });
          return 'x';
        }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_LIFETIME' });
    });

    it('ctx.dependOn(): tokens read when called; an invalidation after it and before the write makes the value dead (raced 30 times)', async () => {
      const [cache, other] = group(2) as [MemcachedClient, MemcachedClient];
      let dead = 0;
      for (let round = 0; round < 30; round++) {
        const key = `doc-${round}`;
        const invalidated = cache.getOrSet(key, async (ctx) => {
          await ctx.dependOn(`author:${round}`);
          // The data is read after dependOn resolved; the invalidation lands before the write.
          await other.invalidate(undefined, { dependencies: [`author:${round}`] });
          return 'read before the invalidation';
        });
        expect(await invalidated).toBe('read before the invalidation');
        if ((await other.query(key)) === undefined) dead++;
        // Without an invalidation, the value is stored and tied to the dependency.
        const kept = `kept-${round}`;
        await cache.getOrSet(kept, async (ctx) => {
          await ctx.dependOn(`editor:${round}`);
          return 'kept';
        });
        expect(await other.query(kept)).toBe('kept');
        await other.invalidate(undefined, { dependencies: [`editor:${round}`] });
        expect(await other.query(kept)).toBeUndefined();
      }
      expect(dead).toBe(30);
    });
  });
}
