/**
 * Read-through measurements, in one run:
 * - a cold-key stampede: 1,000 callers over 4 processes, factory 300 ms — our getOrSet on memcached beside
 *   bentocache's getOrSet with its L2 on Redis (Debian's redis-server), same shape: factory calls and the time
 *   until every caller has its value;
 * - during a refresh within grace, callers' p99 latency beside the p99 of plain hits.
 *
 *   pnpm --filter @lovely-memcached/bench read-through     (also part of `npm run bench`, whose table has them)
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MemcachedClient } from '@lovely-memcached/core';
import { freePort, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';

const run = promisify(execFile);
const worker = fileURLToPath(new URL('./stampede-worker.ts', import.meta.url));
const PROCESSES = 4;
const CALLERS = 250;
const FACTORY_MS = 300;

export interface StampedeResult {
  subject: string;
  factoryCalls: number;
  /** Until every caller had its value, ms from the common start. */
  allServedMs: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function stampede(subject: 'ours' | 'bentocache', server: string): Promise<StampedeResult> {
  const startAt = Date.now() + 2500; // every process loaded and connected before the callers start
  const key = `stampede-${Math.random().toString(36).slice(2)}`;
  const outputs = await Promise.all(
    Array.from({ length: PROCESSES }, () =>
      run(process.execPath, ['--conditions=@lovely-memcached/source', '--import', 'tsx', worker], {
        env: {
          ...process.env,
          SUBJECT: subject,
          SERVER: server,
          KEY: key,
          CALLERS: String(CALLERS),
          START_AT: String(startAt),
          FACTORY_MS: String(FACTORY_MS),
        },
        timeout: 60_000,
      }),
    ),
  );
  const results = outputs.map(
    ({ stdout }) => JSON.parse(stdout) as { factoryCalls: number; latencies: number[] },
  );
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return {
    subject,
    factoryCalls: results.reduce((sum, r) => sum + r.factoryCalls, 0),
    allServedMs: latencies[latencies.length - 1] ?? Number.NaN,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

async function startRedis(): Promise<{ address: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    address: `127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

export interface GraceResult {
  hitP99Ms: number;
  refreshP99Ms: number;
  refreshes: number;
}

/** 1,000 callers spread over 200 ms while a stale value within grace is refreshed (factory 300 ms). */
async function graceLatency(servers: string[]): Promise<GraceResult> {
  let offset = 0;
  const client = new MemcachedClient({
    transport: memjsTransport(),
    servers,
    now: () => Date.now() + offset,
  });
  let refreshes = 0;
  const factory = async () => {
    refreshes++;
    await new Promise((resolve) => setTimeout(resolve, FACTORY_MS));
    return { html: 'x'.repeat(2000) };
  };
  const options = { lifetime: 60, grace: 600, earlyRefresh: 0 };
  const wave = async () => {
    const latencies = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i % 200) * 1));
        const started = performance.now();
        await client.getOrSet('page', factory, options);
        return performance.now() - started;
      }),
    );
    return percentile(
      latencies.sort((a, b) => a - b),
      99,
    );
  };
  await client.getOrSet('page', factory, options);
  refreshes = 0;
  const hitP99Ms = await wave();
  offset = 61_000; // stale now, within grace
  const refreshP99Ms = await wave();
  await client.close();
  return { hitP99Ms, refreshP99Ms, refreshes };
}

export async function measureReadThrough(): Promise<{ stampedes: StampedeResult[]; grace: GraceResult }> {
  const memcached = await startMemcached({ args: ['-t', '1'] });
  const redis = await startRedis();
  try {
    const stampedes = [
      await stampede('ours', memcached.servers[0] as string),
      await stampede('bentocache', redis.address),
    ];
    return { stampedes, grace: await graceLatency(memcached.servers) };
  } finally {
    await Promise.all([memcached.stop(), redis.stop()]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { stampedes, grace } = await measureReadThrough();
  for (const s of stampedes) {
    process.stdout.write(
      `${s.subject}: ${s.factoryCalls} factory call(s) for ${PROCESSES * CALLERS} callers over ${PROCESSES} processes; all served after ${s.allServedMs} ms (factory ${FACTORY_MS} ms), p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms\n`,
    );
  }
  process.stdout.write(
    `refresh within grace: p99 ${grace.refreshP99Ms.toFixed(2)} ms vs hits p99 ${grace.hitP99Ms.toFixed(2)} ms (${grace.refreshes} refresh)\n`,
  );
  process.exit(0);
}
