/**
 * The invalidation guarantee, checked on random concurrent histories (STYLE.md item 16): "a value computed or
 * written before an invalidation is never served after it", for `query`, `getOrSet` (hits, grace, flights,
 * leases, dependencies as an option or through `ctx.dependOn`) and `getOrSetMany`, from several clients in
 * several processes, over every transport. Some invalidations are soft: their old values may be served only by
 * a read-through call with grace that started within that grace after the invalidation resolved. See
 * test/support/history/ for the oracle, the workload and the checker.
 *
 * HISTORY_SEED replays a run's operation mix; HISTORY_MS lengthens every run (a soak: HISTORY_MS=60000);
 * HISTORY_STRICT_SETS=1 also counts values of sets that raced another client's invalidation (check.ts says why
 * they are apart). For a longer look at one transport: test/support/history/cli.ts.
 */
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HistoryRun, runHistory } from './support/history/run-history';
import { type RunningProxy, startNutcracker } from './support/nutcracker';

// About 4 s of history per transport: with the worker processes' start, the file runs in about half a minute.
const { HISTORY_MS = '4000' } = process.env;
const durationMs = Number(HISTORY_MS);
const timeout = durationMs + 30_000;

/** A history worth checking, then nothing stale in it. */
function expectGuaranteeHeld(run: HistoryRun): void {
  console.log(run.summary);
  const { result } = run;
  expect(result.reads, run.summary).toBeGreaterThan(300);
  expect(result.invalidations, run.summary).toBeGreaterThan(30);
  expect(result.getOrSetHits, run.summary).toBeGreaterThan(30);
  expect(result.readsAfterInvalidation, run.summary).toBeGreaterThan(100);
  // The round-2 paths were taken: getOrSetMany keys, soft invalidations, and old values served within grace.
  expect(result.getOrSetManyReads, run.summary).toBeGreaterThan(50);
  expect(result.softInvalidations, run.summary).toBeGreaterThan(10);
  expect(result.servedWithinGrace.length, run.summary).toBeGreaterThan(2);
  // The report (each stale read with its invalidation, origin and the key's last events) only when it fails.
  const report = result.stale.length + result.damaged.length > 0 ? run.report() : run.summary;
  expect(result.damaged.length, report).toBe(0);
  expect(result.stale.length, report).toBe(0);
}

describe('the invalidation guarantee, checked on random concurrent histories', () => {
  let memcached: RunningMemcached;
  let proxied: RunningMemcached[] = [];
  let proxy: RunningProxy | undefined;
  beforeAll(async () => {
    memcached = await startMemcached();
  });
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([memcached, ...proxied].map((server) => server?.stop()));
  });

  it(
    'the checker finds nothing when no invalidation overlaps a write (memory, sanity mode)',
    async () => {
      // Not the guarantee: a check of the checker. With updates never concurrent with a getOrSet or a set,
      // and nothing refreshed in the background, no race is left for a stale read to come from.
      const run = await runHistory({
        transport: 'memory',
        durationMs: Math.min(durationMs, 1500),
        sanity: true,
      });
      console.log(run.summary);
      expect(run.result.invalidations).toBeGreaterThan(10);
      expect(run.result.readsAfterInvalidation).toBeGreaterThan(50);
      expect(run.result.stale.length, run.result.stale.length > 0 ? run.report() : run.summary).toBe(0);
    },
    timeout,
  );

  it(
    'memory transport: 6 clients in this process',
    async () => {
      expectGuaranteeHeld(await runHistory({ transport: 'memory', durationMs }));
    },
    timeout,
  );

  it(
    'memjs: 2 processes × 3 clients against one memcached',
    async () => {
      expectGuaranteeHeld(await runHistory({ transport: 'memjs', servers: memcached.servers, durationMs }));
    },
    timeout,
  );

  it(
    'meta protocol (server-side leases): 2 processes × 3 clients against one memcached',
    async () => {
      expectGuaranteeHeld(await runHistory({ transport: 'meta', servers: memcached.servers, durationMs }));
    },
    timeout,
  );

  it(
    'meta behind nutcracker (classic commands, ketama over three memcached), no invalidateAll',
    async () => {
      proxied = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
      proxy = await startNutcracker(proxied.map((server) => server.servers[0] as string));
      expectGuaranteeHeld(
        await runHistory({ transport: 'meta-proxy', servers: [proxy.address], durationMs }),
      );
    },
    timeout,
  );
});
