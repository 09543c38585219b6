/**
 * Runs examples/otel-http.ts as a user would and reads its summary. The traffic it sends is fixed: five rounds
 * over three pages (the first round misses, the other four hit), then a change to user 42, then one more round
 * (the two pages showing user 42 miss, /users/7 hits): 18 getOrSet reads, 13 hits, 5 misses, 5 renders.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(examples, 'node_modules', '.bin', 'tsx');

export async function runOtelExample(servers: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    tsx,
    ['--conditions=@lovely-memcached/source', 'otel-http.ts'],
    {
      cwd: examples,
      env: { ...process.env, MEMCACHED_SERVERS: servers },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return stdout;
}

/** The summary's counts, and a latency row for each operation and for the requests to `server`. */
export function expectSummary(output: string, server: string): void {
  expect(output).toContain('18 page requests, 5 pages rendered');
  expect(output).toContain('cache reads: 13 hits, 0 stale, 5 misses, hit ratio 72.2%');
  expect(output).toContain('getOrSet: 5 renders (factory runs), 0 waits');
  const calls = (label: string) => {
    // A label, then the padding before its count: `set` is not `set 127.0.0.1:11211`.
    const row = output.split('\n').find((line) => line.trim().startsWith(`${label}  `));
    const [count, mean, p50, p95] = (row ?? '').trim().slice(label.length).trim().split(/\s+/).map(Number);
    expect(row, `no row for ${label} in:\n${output}`).toBeDefined();
    for (const ms of [mean, p50, p95]) expect(ms).toBeGreaterThanOrEqual(0);
    return count;
  };
  expect(calls('getOrSet')).toBe(18); // one per page request
  expect(calls('invalidate')).toBe(1);
  expect(calls(`getMulti ${server}`)).toBeGreaterThan(0);
  const nesting = /under their operation's span: (\d+)\/(\d+)/.exec(output);
  expect(Number(nesting?.[2])).toBeGreaterThan(0);
  expect(nesting?.[1]).toBe(nesting?.[2]);
}
