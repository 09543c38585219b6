import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGuaranteeHeld, runDependencyRace, runEvictionRounds } from './dependency-guarantee.shared';

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
      const { checked, evictions } = await runEvictionRounds(client, {
        rounds: 12,
        entries: 100,
        filler: 400,
        size: 2000,
      });
      expect(checked).toBe(1200);
      expect(evictions).toBeGreaterThan(1000);
      await client.close();
    } finally {
      await small.stop();
    }
  });
});
