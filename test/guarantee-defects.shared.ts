/**
 * The round 3 defects of the invalidation guarantee, one test each, from the reproductions in
 * shared/research/round3-repros (r1, r2, r5, r9, r10, r11). Run over the memory transport and over a real
 * memcached with both network transports (same tests, same asserts). Each failed on the round 2 code.
 */
import { CacheError, type MemcachedClient } from '@lovely-memcached/core';
import { describe, expect, it } from 'vitest';
import { clientGroups, type GroupSetup } from './support/client-groups';
import { trackUnhandledRejections } from './support/unhandled-rejections';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A promise the test resolves when something happened (a factory started): no fixed sleeps on a loaded machine. */
function signal(): { promise: Promise<void>; resolve(): void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export function describeGuaranteeDefects(name: string, setup: () => Promise<GroupSetup>): void {
  describe(`the invalidation guarantee over ${name}`, () => {
    trackUnhandledRejections();
    const group = clientGroups(setup);

    for (const how of ['dependency', 'namespace'] as const) {
      it(`r1: a getOrSet called after a ${how} invalidation resolved does not join the flight from before it`, async () => {
        const [client] = group(1) as [MemcachedClient];
        let version = 1;
        const started = signal();
        const factory = async () => {
          const read = version;
          started.resolve();
          await sleep(150);
          return `v${read}`;
        };
        const options = { dependencies: ['user:1'] };
        const first = client.getOrSet('cart', factory, options);
        await started.promise; // not a fixed sleep: on a loaded machine the factory can start late
        version = 2;
        if (how === 'dependency') await client.invalidate(undefined, options);
        else await client.invalidateNamespace();
        const after = await client.getOrSet('cart', factory, options);
        expect(await first).toBe('v1'); // its own callers get it
        expect(after).toBe('v2');
        expect(await client.query('cart')).toBe('v2');
      });
    }

    it("r10: invalidate(key) while another client's factory computes the key wins over its write", async () => {
      const [a, b] = group(2) as [MemcachedClient, MemcachedClient];
      let price = 10;
      const started = signal();
      const computing = a.getOrSet(
        'price',
        async () => {
          const read = price;
          started.resolve();
          await sleep(150);
          return read;
        },
        { lifetime: 3600 },
      );
      await started.promise;
      price = 12;
      await b.invalidate('price');
      expect(await computing).toBe(10);
      await sleep(50);
      expect(await b.query('price')).toBeUndefined();
      expect(await a.query('price')).toBeUndefined();
      expect(await b.getOrSet('price', async () => price)).toBe(12);
    });

    it('r11: a set made after another client invalidated one of its dependencies is readable at once', async () => {
      const [a, b] = group(2) as [MemcachedClient, MemcachedClient];
      await b.set('x', 1, { dependencies: ['d'] }); // b knows d's token
      await a.invalidate(undefined, { dependencies: ['d'] });
      await b.set('fresh', 2, { dependencies: ['d'] });
      expect(await b.query('fresh')).toBe(2);
      expect(await a.query('fresh')).toBe(2);
      // And still invalidated by the next invalidation of d.
      await a.invalidate(undefined, { dependencies: ['d'] });
      expect(await b.query('fresh')).toBeUndefined();
    });

    it("r9: one client's writes land in the order issued, even when its known token was stale", async () => {
      const [a, b] = group(2) as [MemcachedClient, MemcachedClient];
      await a.set('price', 'v0', { dependencies: ['catalog'] });
      await b.invalidate(undefined, { dependencies: ['catalog'] });
      await sleep(150);
      await Promise.all([a.set('price', 'v1', { dependencies: ['catalog'] }), a.set('price', 'v2')]);
      expect(await a.query('price')).toBe('v2');

      await a.set('label', 'old', { dependencies: ['catalog'] });
      await b.invalidate(undefined, { dependencies: ['catalog'] });
      await sleep(150);
      await Promise.all([a.set('label', 'x', { dependencies: ['catalog'] }), a.invalidate('label')]);
      expect(await a.query('label')).toBeUndefined();
    });

    for (const how of ['dependency', 'namespace', 'all'] as const) {
      it(`a set issued before the same client's ${how} invalidation never lands after it (found by the history checker)`, async () => {
        const [a, b] = group(2) as [MemcachedClient, MemcachedClient];
        const invalidate = () =>
          how === 'dependency'
            ? a.invalidate(undefined, { dependencies: ['stock'] })
            : how === 'namespace'
              ? a.invalidateNamespace()
              : a.invalidateAll();
        // Tokens unknown to `a`: its write waits for their read, while the invalidation goes out at once.
        await Promise.all([a.set('first', 1, { dependencies: ['stock'] }), invalidate()]);
        expect(await a.query('first')).toBeUndefined();
        // Tokens known but stale (another client invalidated): the rewrite must not outlive the invalidation.
        await b.invalidate(undefined, { dependencies: ['stock'] });
        await Promise.all([a.set('second', 2, { dependencies: ['stock'] }), invalidate()]);
        expect(await a.query('second')).toBeUndefined();
        // Writes issued after the invalidation are stored.
        await Promise.all([invalidate(), a.set('third', 3, { dependencies: ['stock'] })]);
        expect(await a.query('third')).toBe(3);
      });
    }

    it("r2: a lease holder's dead write does not stall the waiters until lockTimeout", async () => {
      const [holder, ...waiters] = group(5) as MemcachedClient[];
      const options = { dependencies: ['dep'], lockTimeout: 3000 };
      let calls = 0;
      const factory = (who: string) => async () => {
        calls++;
        await sleep(250);
        return who;
      };
      const holding = signal();
      const started = Date.now();
      const first = (holder as MemcachedClient).getOrSet(
        'report',
        async () => {
          holding.resolve();
          return factory('holder')();
        },
        options,
      );
      await holding.promise;
      await (holder as MemcachedClient).invalidate(undefined, { dependencies: ['dep'] });
      const results = await Promise.all([
        first,
        ...waiters.map((client, i) => client.getOrSet('report', factory(`waiter ${i}`), options)),
      ]);
      const elapsed = Date.now() - started;
      expect(results[0]).toBe('holder');
      // The holder's value came from before the invalidation: no waiter, started after it, gets it.
      for (const result of results.slice(1)) expect(result).not.toBe('holder');
      // One more factory call, by one waiter; answered well before the 3 s lockTimeout.
      expect(calls).toBe(2);
      expect(new Set(results.slice(1)).size).toBe(1);
      expect(elapsed).toBeLessThan(2500);
    });

    it('r5 and close(): a call waiting on a lease or on a factory settles with ERR_CLIENT_CLOSED; no factory runs after', async () => {
      const [client, other] = group(2) as [MemcachedClient, MemcachedClient];
      other.getOrSet('exit', () => new Promise<string>(() => {}), { lockTimeout: 8000 }).catch(() => {});
      await sleep(60);
      let ran = false;
      const waiting = client.getOrSet(
        'exit',
        async () => {
          ran = true;
          return 'mine';
        },
        { lockTimeout: 8000 },
      );
      const hanging = client.getOrSet('hangs', () => new Promise<string>(() => {}));
      await sleep(100);
      const started = Date.now();
      await client.close();
      await other.close();
      const outcomes = await Promise.allSettled([waiting, hanging]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(CacheError);
        expect((reason as CacheError).code).toBe('ERR_CLIENT_CLOSED');
      }
      expect(Date.now() - started).toBeLessThan(2000);
      await sleep(200);
      expect(ran).toBe(false);
    });
  });
}
