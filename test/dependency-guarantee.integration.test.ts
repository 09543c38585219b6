import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGuaranteeHeld, runDependencyRace } from './dependency-guarantee.shared';

describe('dependency guarantee against real memcached', () => {
  let servers: RunningMemcached[] = [];
  beforeAll(async () => {
    servers = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it.each([1, 2, 3])('holds with writers and invalidations on three servers (seed %i)', async (seed) => {
    const run = await runDependencyRace(
      memjsTransport(),
      servers.map((s) => s.servers[0] as string),
      { seed, clients: 12, writesPerWriter: 50 },
    );
    expectGuaranteeHeld(run);
  });

  it('holds when memcached evicts the bookkeeping (-m 2, far more data than fits)', async () => {
    const small = await startMemcached({ args: ['-m', '2'] });
    try {
      const client = new MemcachedClient({ transport: memjsTransport(), servers: small.servers });
      const filler = 'x'.repeat(2000);
      let checked = 0;
      for (let round = 0; round < 12; round++) {
        const keys = Array.from({ length: 100 }, (_, i) => `r${round}-k${i}`);
        await Promise.all(keys.map((key) => client.set(key, filler, { dependencies: [`dep-${round % 3}`] })));
        await Promise.all(Array.from({ length: 400 }, (_, i) => client.set(`fill-${round}-${i}`, filler)));
        await client.invalidate(undefined, { dependencies: [`dep-${round % 3}`] });
        for (const value of await Promise.all(keys.map((key) => client.query(key)))) {
          expect(value).toBeUndefined();
          checked++;
        }
      }
      expect(checked).toBe(1200);
      const [[, stats]] = (await client.getStatistics()) as [[string, Record<string, string>]];
      expect(Number(stats.evictions)).toBeGreaterThan(1000);
      await client.close();
    } finally {
      await small.stop();
    }
  });
});
