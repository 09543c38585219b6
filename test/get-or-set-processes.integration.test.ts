/**
 * One factory call across processes: 4 node processes × 25 callers on one cold key, each factory taking
 * 300–400 ms, against a real memcached. Exactly one factory call in all, one value seen by every caller.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./support/get-or-set-child.ts', import.meta.url));

describe('getOrSet across processes (real memcached)', () => {
  let memcached: RunningMemcached;
  beforeAll(async () => {
    memcached = await startMemcached();
  });
  afterAll(() => memcached.stop());

  it('runs the factory once for 4 processes × 25 callers on a cold key', async () => {
    const ns = `stampede-${Math.random().toString(36).slice(2)}`;
    // Every process starts its callers at the same moment, once all have loaded.
    const startAt = Date.now() + 3000;
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ['--conditions=@lovely-memcached/source', '--import', 'tsx', child], {
          env: {
            ...process.env,
            SERVERS: memcached.servers.join(','),
            NS: ns,
            CALLERS: '25',
            START_AT: String(startAt),
          },
          timeout: 30_000,
        }),
      ),
    );
    const results = outputs.map(
      ({ stdout }) => JSON.parse(stdout) as { factoryCalls: number; values: string[] },
    );
    expect(results.reduce((sum, r) => sum + r.factoryCalls, 0)).toBe(1);
    const seen = new Set(results.flatMap((r) => r.values));
    expect(seen.size).toBe(1);
    expect([...seen][0]).toMatch(/^computed by \d+$/);
  }, 60_000);
});
