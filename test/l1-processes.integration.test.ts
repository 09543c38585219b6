/**
 * L1 across processes (issue 24), against a real memcached and a real Redis: this process writes and invalidates
 * one key (by key, dependency, namespace, all, or a new value) every 40-80 ms while four child processes with L1
 * read it every ~2 ms. Checked over the whole history:
 * - no child ever serves a value later than `maxStale` after an invalidation or overwrite of it resolved
 *   (with the bus, without a bus, and with Redis stopped by SIGSTOP for the middle third of the run);
 * - the invalidating process itself is never stale (it reads right after each operation resolves);
 * - with the bus, the p99 lag from an operation resolving to every child reading the new state is ≤ 50 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisBus } from '@lovely-memcached/bus-redis';
import { MemcachedClient } from '@lovely-memcached/core';
import {
  type RunningMemcached,
  type RunningRedis,
  startMemcached,
  startRedis,
} from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { captureWarnings } from './support/expected-warnings';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
const CHILDREN = 4;
const RUN_MS = 6000;
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let memcached: RunningMemcached;
let redis: RunningRedis;
beforeAll(async () => {
  [memcached, redis] = await Promise.all([startMemcached(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([memcached?.stop(), redis?.stop()]);
});

type Sample = [started: number, ended: number, value: number | null];
interface Operation {
  kind: string;
  resolvedAt: number;
  /** The state before and after: a version, or null (nothing there). */
  before: number | null;
  after: number | null;
}

function child(withBus: boolean, maxStale: number) {
  const process_: ChildProcess = spawn(
    tsx,
    [
      '--conditions=@lovely-memcached/source',
      join(here, 'support', 'l1-reader-child.ts'),
      memcached.servers[0] as string,
      withBus ? redis.url : '-',
      String(maxStale),
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  let output = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  process_.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('ready\n')) onReady();
  });
  const done = new Promise<Sample[]>((resolve, reject) => {
    process_.once('exit', (code) => {
      const line = output.split('\n').find((each) => each.startsWith('{'));
      if (code !== 0 || line === undefined)
        reject(new Error(`reader exited ${code}: ${output.slice(0, 500)}`));
      else resolve((JSON.parse(line) as { samples: Sample[] }).samples);
    });
  });
  return { ready, done, stop: () => process_.send('stop') };
}

async function run(mode: 'bus' | 'no bus' | 'bus, Redis SIGSTOPped', maxStale: number) {
  const withBus = mode !== 'no bus';
  const readers = Array.from({ length: CHILDREN }, () => child(withBus, maxStale));
  await Promise.all(readers.map((reader) => reader.ready));
  const bus = withBus ? redisBus({ url: redis.url, commandTimeout: 200 }) : undefined;
  const writer = new MemcachedClient({
    transport: memjsTransport(),
    servers: memcached.servers,
    l1: { maxBytes: '1mb', maxStale, ...(bus === undefined ? {} : { bus }) },
  });
  while (bus !== undefined && !bus.connected) await sleep(5);
  const operations: Operation[] = [];
  let ownStale = 0;
  let version = 0;
  let state: number | null = null;
  const kinds = [
    ['key', () => writer.invalidate('k', { ns: 'n' })],
    ['dependency', () => writer.invalidate(undefined, { dependencies: ['d'], ns: 'n' })],
    ['namespace', () => writer.invalidateNamespace('n')],
    ['all', () => writer.invalidateAll()],
  ] as const;
  const stopAt = clock() + RUN_MS;
  const started = clock();
  let paused = false;
  let resumed = false;
  for (let round = 0; clock() < stopAt; round++) {
    if (mode === 'bus, Redis SIGSTOPped') {
      if (!paused && clock() - started > RUN_MS / 3) {
        redis.pause();
        paused = true;
      } else if (paused && !resumed && clock() - started > (2 * RUN_MS) / 3) {
        redis.resume();
        resumed = true;
      }
    }
    const before = state;
    let kind: string;
    if (state === null || round % 3 === 1) {
      version++;
      kind = 'set';
      await writer.set('k', version, { ns: 'n', dependencies: ['d'] });
      state = version;
    } else {
      const [name, invalidate] = kinds[round % kinds.length] as (typeof kinds)[number];
      kind = name;
      await invalidate();
      state = null;
    }
    operations.push({ kind, resolvedAt: clock(), before, after: state });
    // The process that wrote or invalidated is never stale, not even by a millisecond.
    if (((await writer.query('k', { ns: 'n' })) ?? null) !== state) ownStale++;
    await sleep(40 + Math.random() * 40);
  }
  if (paused && !resumed) redis.resume();
  await sleep(Math.max(100, maxStale < 1000 ? maxStale : 100));
  for (const reader of readers) reader.stop();
  const histories = await Promise.all(readers.map((reader) => reader.done));
  await writer.close();

  // When each version stopped being current (the operation after its set resolved).
  const obsoleteAt = new Map<number, number>();
  for (let i = 0; i < operations.length; i++) {
    const operation = operations[i] as Operation;
    if (operation.before !== null && !obsoleteAt.has(operation.before))
      obsoleteAt.set(operation.before, operation.resolvedAt);
  }
  let staleReads = 0;
  let maxAgeMs = 0;
  for (const samples of histories) {
    for (const [start, , value] of samples) {
      if (value === null) continue;
      const obsolete = obsoleteAt.get(value);
      if (obsolete === undefined || start <= obsolete) continue;
      maxAgeMs = Math.max(maxAgeMs, start - obsolete);
      if (start > obsolete + maxStale) staleReads++;
    }
  }
  // Lag: from an operation resolving to the last child's first read (issued after it) that shows its outcome.
  const lags: number[] = [];
  for (let i = 0; i < operations.length - 1; i++) {
    const operation = operations[i] as Operation;
    const next = operations[i + 1] as Operation;
    let worst = 0;
    for (const samples of histories) {
      const seen = samples.find(
        ([start, , value]) => start >= operation.resolvedAt && value !== operation.before,
      );
      const at = seen === undefined || seen[1] > next.resolvedAt ? next.resolvedAt : seen[1];
      worst = Math.max(worst, at - operation.resolvedAt);
    }
    lags.push(worst);
  }
  lags.sort((a, b) => a - b);
  const p99 = lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))] ?? 0;
  const p50 = lags[Math.floor(lags.length / 2)] ?? 0;
  const reads = histories.reduce((sum, samples) => sum + samples.length, 0);
  const summary = {
    mode,
    maxStale,
    operations: operations.length,
    reads,
    staleReads,
    ownStale,
    maxAgeMs: Math.round(maxAgeMs),
    lagP50Ms: Number(p50.toFixed(1)),
    lagP99Ms: Number(p99.toFixed(1)),
  };
  console.log('L1 across processes:', summary);
  return summary;
}

describe('L1 across four processes', () => {
  it('with the Redis bus: 0 reads older than maxStale, never stale itself, p99 lag ≤ 50 ms', async () => {
    const result = await run('bus', 2000);
    expect(result.operations).toBeGreaterThan(40);
    expect(result.staleReads).toBe(0);
    expect(result.ownStale).toBe(0);
    expect(result.lagP99Ms).toBeLessThanOrEqual(50);
  }, 60_000);

  it('without a bus: 0 reads older than maxStale, never stale itself', async () => {
    const result = await run('no bus', 150);
    expect(result.staleReads).toBe(0);
    expect(result.ownStale).toBe(0);
  }, 60_000);

  it('with Redis stopped (SIGSTOP) for the middle third: still 0 reads older than maxStale', async () => {
    // Redis not answering is reported as a process warning, once: expected here.
    const warnings = captureWarnings('LOVELY_MEMCACHED');
    onTestFinished(() => warnings.restore());
    const result = await run('bus, Redis SIGSTOPped', 300);
    expect(result.staleReads).toBe(0);
    expect(result.ownStale).toBe(0);
  }, 60_000);
});
