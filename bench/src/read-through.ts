/**
 * Read-through measurements, in one run:
 * - a cold-key stampede: 1,000 callers over 4 processes, factory 300 ms — our getOrSet on memcached beside
 *   bentocache's getOrSet with its L2 on Redis (Debian's redis-server), same shape: factory calls and the time
 *   until every caller has its value;
 * - during a refresh within grace, callers' p99 latency beside the p99 of plain hits;
 * - a page of 100 keys, 30 of them missing: one `getOrSetMany` beside 100 concurrent `getOrSet` calls, over a
 *   data source modelled as a database (one connection serving one query at a time, a fixed cost per query and a
 *   small one per row): time per page, factory calls and queries;
 * - a hot key softly invalidated under 64 concurrent callers: their p99 right after the invalidation beside the
 *   p99 of plain hits, measured in turns.
 *
 *   pnpm --filter @lovely-memcached/bench read-through [--quick]   (also part of `npm run bench`, whose table has them)
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

/** The page of the `getOrSetMany` comparison: 100 keys, of which these many are missing. */
export const PAGE_KEYS = 100;
export const PAGE_MISSING = 30;
/** The database model: one connection, one query at a time; each query costs this, plus this per row. */
export const QUERY_MS = 1;
export const ROW_MS = 0.02;
export const DATABASE_MODEL = `a database on one connection, one query at a time, ${QUERY_MS} ms a query + ${ROW_MS} ms a row`;

/**
 * The data source of the page comparison: a database reached over one connection, which serves one query at a
 * time (a pool of one; a busy database behaves alike), each query costing a fixed `QUERY_MS` plus `ROW_MS` per
 * row. Queries queue in order. Counts its queries and the time it was busy (timers are coarse: that is what was
 * actually spent).
 */
class Database {
  queries = 0;
  busyMs = 0;
  private idle: Promise<void> = Promise.resolve();

  /** The rows of `ids`, one query, in turn with every other query. */
  byIds(ids: readonly string[]): Promise<string[]> {
    this.queries++;
    const answer = this.idle.then(async () => {
      const started = performance.now();
      await sleep(QUERY_MS + ROW_MS * ids.length);
      this.busyMs += performance.now() - started;
      return ids.map((id) => `row ${id}`);
    });
    this.idle = answer.then(() => undefined);
    return answer;
  }
}

export interface ManyResult {
  pages: number;
  /** Median time per page, ms. */
  manyMs: number;
  singleMs: number;
  /** Per page. */
  manyFactoryCalls: number;
  singleFactoryCalls: number;
  manyQueries: number;
  singleQueries: number;
  /** The database's busy time per page, ms. */
  manyDatabaseMs: number;
  singleDatabaseMs: number;
}

/**
 * A page of 100 keys, 70 cached and 30 missing, read with one `getOrSetMany` (one factory call, one query for
 * the 30) or with 100 concurrent `getOrSet` calls (30 factory calls, 30 one-row queries, queued on the one
 * connection). Every page has keys of its own (cold where missing); the two take turns, in alternating order.
 */
export async function pageOfKeys(servers: string[], pages: number): Promise<ManyResult> {
  const client = new MemcachedClient({ transport: memjsTransport(), servers, defaultNS: 'page-bench' });
  const subjects = {
    many: { database: new Database(), factoryCalls: 0, times: [] as number[] },
    single: { database: new Database(), factoryCalls: 0, times: [] as number[] },
  };
  const options = { lifetime: 600 };
  const readPage = {
    many: (keys: string[]) =>
      client.getOrSetMany(
        keys,
        (missing) => {
          subjects.many.factoryCalls++;
          return subjects.many.database.byIds(missing);
        },
        options,
      ),
    single: (keys: string[]) =>
      Promise.all(
        keys.map((key) =>
          client.getOrSet(
            key,
            async () => {
              subjects.single.factoryCalls++;
              return (await subjects.single.database.byIds([key]))[0];
            },
            options,
          ),
        ),
      ),
  };
  const page = async (name: 'many' | 'single', index: number) => {
    const keys = Array.from({ length: PAGE_KEYS }, (_, i) => `${name}-${index}-${i}`);
    // Spread over the page: 3 of every 10 keys missing.
    const cached = keys.filter((_, i) => i % 10 >= (PAGE_MISSING * 10) / PAGE_KEYS);
    await Promise.all(cached.map((key) => client.set(key, `row ${key}`, options)));
    const started = performance.now();
    const values = await readPage[name](keys);
    subjects[name].times.push(performance.now() - started);
    if (values.some((value, i) => value !== `row ${keys[i]}`)) throw new Error(`${name}: a wrong value`);
  };
  const warmUp = Math.min(5, pages);
  for (let i = 0; i < pages + warmUp; i++) {
    if (i === warmUp) {
      for (const subject of Object.values(subjects)) {
        subject.times = [];
        subject.factoryCalls = 0;
        subject.database = new Database();
      }
    }
    for (const name of i % 2 ? (['single', 'many'] as const) : (['many', 'single'] as const)) {
      await page(name, i);
    }
  }
  await client.close();
  const { many, single } = subjects;
  return {
    pages,
    manyMs: median(many.times),
    singleMs: median(single.times),
    manyFactoryCalls: many.factoryCalls / pages,
    singleFactoryCalls: single.factoryCalls / pages,
    manyQueries: many.database.queries / pages,
    singleQueries: single.database.queries / pages,
    manyDatabaseMs: many.database.busyMs / pages,
    singleDatabaseMs: single.database.busyMs / pages,
  };
}

export interface SoftResult {
  callers: number;
  trials: number;
  hitP99Ms: number;
  softP99Ms: number;
  /** p50 and p90 beside the p99s: on a busy machine one stall decides a p99 of a few thousand calls. */
  hitP50Ms: number;
  softP50Ms: number;
  hitP90Ms: number;
  softP90Ms: number;
  /** Refreshes per soft invalidation (1: one caller refreshed, the others were served the stale value). */
  refreshesPerTrial: number;
  factoryMs: number;
}

const SOFT_CALLERS = 64;
const SOFT_FACTORY_MS = 100;

/**
 * A hot key under 64 concurrent callers: in each trial, a wave of plain hits, then a soft invalidation and,
 * once it resolved, a wave right after it. The factory takes 100 ms (a slow source): a caller that waited for
 * the refresh would show it. Before the next trial the refreshed value is in (a `query` finds it fresh).
 */
export async function softInvalidatedHotKey(servers: string[], trials: number): Promise<SoftResult> {
  const client = new MemcachedClient({ transport: memjsTransport(), servers, defaultNS: 'soft-bench' });
  const invalidator = new MemcachedClient({ transport: memjsTransport(), servers, defaultNS: 'soft-bench' });
  let refreshes = 0;
  let version = 0;
  const factory = async () => {
    refreshes++;
    await sleep(SOFT_FACTORY_MS);
    return { version: ++version, html: 'x'.repeat(2000) };
  };
  const options = { lifetime: 600, grace: 600, earlyRefresh: 0 };
  const wave = () =>
    Promise.all(
      Array.from({ length: SOFT_CALLERS }, async () => {
        const started = performance.now();
        await client.getOrSet('hot', factory, options);
        return performance.now() - started;
      }),
    );
  await client.getOrSet('hot', factory, options);
  for (let i = 0; i < 3; i++) await wave(); // warm up
  const hits: number[] = [];
  const soft: number[] = [];
  refreshes = 0;
  for (let trial = 0; trial < trials; trial++) {
    hits.push(...(await wave()));
    await invalidator.invalidate('hot', { soft: true });
    soft.push(...(await wave()));
    // The refresh lands before the next trial's hits: a fresh value, which `query` only returns once it is in.
    const deadline = performance.now() + 5000;
    while ((await client.query<{ version: number }>('hot'))?.version !== version) {
      if (performance.now() > deadline) throw new Error('the refresh after a soft invalidation never landed');
      await sleep(5);
    }
  }
  await Promise.all([client.close(), invalidator.close()]);
  hits.sort((a, b) => a - b);
  soft.sort((a, b) => a - b);
  return {
    callers: SOFT_CALLERS,
    trials,
    hitP99Ms: percentile(hits, 99),
    softP99Ms: percentile(soft, 99),
    hitP50Ms: percentile(hits, 50),
    softP50Ms: percentile(soft, 50),
    hitP90Ms: percentile(hits, 90),
    softP90Ms: percentile(soft, 90),
    refreshesPerTrial: refreshes / trials,
    factoryMs: SOFT_FACTORY_MS,
  };
}

export interface ReadThroughResults {
  stampedes: StampedeResult[];
  grace: GraceResult;
  many: ManyResult;
  soft: SoftResult;
}

export async function measureReadThrough({ quick = false } = {}): Promise<ReadThroughResults> {
  const memcached = await startMemcached({ args: ['-t', '1'] });
  const redis = await startRedis();
  try {
    const stampedes = [
      await stampede('ours', memcached.servers[0] as string),
      await stampede('bentocache', redis.address),
    ];
    return {
      stampedes,
      grace: await graceLatency(memcached.servers),
      many: await pageOfKeys(memcached.servers, quick ? 20 : 60),
      soft: await softInvalidatedHotKey(memcached.servers, quick ? 20 : 60),
    };
  } finally {
    await Promise.all([memcached.stop(), redis.stop()]);
  }
}

/** The page comparison in one line, with its ratio. */
export function describeMany(many: ManyResult): string {
  return `getOrSetMany of ${PAGE_KEYS} keys, ${PAGE_MISSING} missing: ${many.manyMs.toFixed(2)} ms a page, ${many.manyFactoryCalls} factory call(s), ${many.manyQueries} query(ies), database busy ${many.manyDatabaseMs.toFixed(2)} ms; ${PAGE_KEYS} concurrent getOrSet: ${many.singleMs.toFixed(2)} ms a page, ${many.singleFactoryCalls} factory calls, ${many.singleQueries} queries, database busy ${many.singleDatabaseMs.toFixed(2)} ms; getOrSetMany ${(many.singleMs / many.manyMs).toFixed(2)}× faster (target ≥ 2×) — data source: ${DATABASE_MODEL}; median of ${many.pages} pages each`;
}

/** The soft invalidation comparison in one line, with its ratio. */
export function describeSoft(soft: SoftResult): string {
  const ms = (n: number) => n.toFixed(2);
  return `soft-invalidated hot key, ${soft.callers} concurrent callers: p99 right after the invalidation ${ms(soft.softP99Ms)} ms vs plain hits p99 ${ms(soft.hitP99Ms)} ms (${(soft.softP99Ms / soft.hitP99Ms).toFixed(2)}×; target: stays at the hit latency); p50 ${ms(soft.softP50Ms)} vs ${ms(soft.hitP50Ms)} ms (${(soft.softP50Ms / soft.hitP50Ms).toFixed(2)}×), p90 ${ms(soft.softP90Ms)} vs ${ms(soft.hitP90Ms)} ms (${(soft.softP90Ms / soft.hitP90Ms).toFixed(2)}×); ${soft.refreshesPerTrial} refresh per invalidation, factory ${soft.factoryMs} ms; ${soft.trials} trials × ${soft.callers} calls each`;
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { stampedes, grace, many, soft } = await measureReadThrough({
    quick: process.argv.includes('--quick'),
  });
  for (const s of stampedes) {
    process.stdout.write(
      `${s.subject}: ${s.factoryCalls} factory call(s) for ${PROCESSES * CALLERS} callers over ${PROCESSES} processes; all served after ${s.allServedMs} ms (factory ${FACTORY_MS} ms), p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms\n`,
    );
  }
  process.stdout.write(
    `refresh within grace: p99 ${grace.refreshP99Ms.toFixed(2)} ms vs hits p99 ${grace.hitP99Ms.toFixed(2)} ms (${grace.refreshes} refresh)\n`,
  );
  process.stdout.write(`${describeMany(many)}\n${describeSoft(soft)}\n`);
  process.exit(0);
}
