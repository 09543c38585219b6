/**
 * The invalidation guarantee with L1 on (issue 24), on random concurrent histories (test/support/history/):
 * four worker processes × two clients over a real memcached, every client with its own L1. Every read is
 * judged against every invalidation that resolved before it began, with one allowance: a client other than the
 * invalidating one may still serve its copy until `maxStale` after the invalidation resolved; the invalidating
 * client none. With the Redis bus, without a bus, and with Redis stopped (SIGSTOP) for part of the run.
 */
import {
  type RunningMemcached,
  type RunningRedis,
  startMemcached,
  startRedis,
} from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHistory } from './support/history/check';
import { type HistoryRun, runHistory } from './support/history/run-history';

const durationMs = 4000;
const timeout = durationMs + 40_000;
/** Four processes, as the issue asks: L1 copies in each, invalidations from all. */
const workers = { processes: 4, clientsPerProcess: 2 };

function expectGuaranteeHeld(run: HistoryRun): void {
  console.log(run.summary);
  expect(run.result.invalidations).toBeGreaterThan(10);
  expect(run.result.readsAfterInvalidation).toBeGreaterThan(50);
  expect(run.result.damaged.length).toBe(0);
  expect(run.result.stale.length, run.result.stale.length > 0 ? run.report() : run.summary).toBe(0);
}

describe('the invalidation guarantee with L1 on every client', () => {
  let memcached: RunningMemcached;
  let redis: RunningRedis;
  beforeAll(async () => {
    [memcached, redis] = await Promise.all([startMemcached(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([memcached?.stop(), redis?.stop()]);
  });

  it(
    'with the Redis bus',
    async () => {
      expectGuaranteeHeld(
        await runHistory({
          transport: 'memjs',
          servers: memcached.servers,
          durationMs,
          ...workers,
          l1: { maxStaleMs: 1000, redisUrl: redis.url },
        }),
      );
    },
    timeout,
  );

  it(
    'without a bus',
    async () => {
      const run = await runHistory({
        transport: 'memjs',
        servers: memcached.servers,
        durationMs,
        ...workers,
        l1: { maxStaleMs: 100 },
      });
      expectGuaranteeHeld(run);
      // L1 was used: without the maxStale allowance, other clients' copies served after an invalidation show.
      const withoutAllowance = checkHistory(run.events).stale;
      console.log(
        `without the maxStale allowance: ${withoutAllowance.length} reads from L1 after another client's invalidation`,
      );
      expect(withoutAllowance.length).toBeGreaterThan(0);
      // And never by the invalidating client itself.
      expect(
        withoutAllowance.filter(({ read, invalidation }) => read.client === invalidation.client),
      ).toEqual([]);
    },
    timeout,
  );

  it(
    'with Redis stopped (SIGSTOP) for part of the run',
    async () => {
      expectGuaranteeHeld(
        await runHistory({
          transport: 'memjs',
          servers: memcached.servers,
          durationMs,
          ...workers,
          l1: { maxStaleMs: 200, redisUrl: redis.url },
          outage: { atMs: 1000, forMs: 2000, cut: () => redis.pause(), restore: () => redis.resume() },
        }),
      );
    },
    timeout,
  );
});
