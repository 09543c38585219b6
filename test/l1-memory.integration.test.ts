/**
 * L1's byte bound holds in the heap: 40,000 distinct 1 KB values read through an 8 MB L1 grow the heap (measured
 * after a GC, in a child process run with --expose-gc) by well under 3 × maxBytes. Strings and structured values.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMemcached } from '@lovely-memcached/testing';
import { expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');

it.each(['string', 'object'])(
  '40,000 distinct 1 KB %s values through an 8 MB L1 grow the heap by well under 3 × maxBytes',
  async (shape) => {
    const server = await startMemcached({ args: ['-m', '256'] });
    try {
      const output = await new Promise<string>((resolve, reject) => {
        execFile(
          tsx,
          [
            '--conditions=@lovely-memcached/source',
            join(here, 'support', 'l1-memory-child.ts'),
            server.servers[0] as string,
            shape,
          ],
          { timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '--expose-gc' } },
          (error, stdout) => (error ? reject(error) : resolve(stdout)),
        );
      });
      const measured = JSON.parse(output.trim().split('\n').pop() as string) as {
        growth: number;
        maxBytes: number;
        entries: number;
        bytes: number;
        evictions: number;
      };
      console.log(`L1 memory (${shape}):`, measured);
      expect(measured.bytes).toBeLessThanOrEqual(measured.maxBytes);
      expect(measured.evictions).toBeGreaterThan(30_000);
      expect(measured.growth).toBeLessThan(2 * measured.maxBytes);
    } finally {
      await server.stop();
    }
  },
  90_000,
);
