/**
 * The benchmarks, in one run: starts its own memcached (one thread, loopback, a free port), measures every
 * comparison interleaved, and writes results.md and ratios.svg to the results folder. Started by run.ts
 * (`npm run bench`), once the packages it imports are built.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { MemcachedClient } from '@lovely-memcached/core';
import { startMemcached, TestMemcachedClient } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { measureL1 } from './l1';
import { alternate, compare, type Measured, type Subject, timeOnce } from './measure';
import { memcacheClient, memcached3rdEden, rawMemjs } from './peers';
import { pinApart } from './pin';
import { DATABASE_MODEL, measureReadThrough, PAGE_KEYS, PAGE_MISSING } from './read-through';
import { markdown, type Row, svgChart } from './report';
import { measureServerLoss } from './server-loss';

const VALUE = 'v'.repeat(100);
const KEYS = 1000;

export interface BenchmarkOptions {
  /** 2 rounds instead of 7, fewer one-off timings. */
  quick: boolean;
  /** Where results.md and ratios.svg go. */
  results: string;
}

const rows: Row[] = [];
const byName = (measured: Measured[], name: string) => measured.find((m) => m.name === name) as Measured;
const log = (text: string) => process.stderr.write(`${text}\n`);

function ratioRow(
  group: string,
  m: Measured,
  base: Measured,
  target?: { text: string; met: (ratio: number) => boolean },
) {
  const ratio = m.opsPerSecond / base.opsPerSecond;
  rows.push({
    group,
    subject: m.name,
    concurrency: m.concurrency,
    value: m.opsPerSecond,
    unit: 'ops/s',
    ratio,
    target: target?.text,
    met: target?.met(ratio),
  });
}

function plainRow(group: string, m: Measured) {
  rows.push({ group, subject: m.name, concurrency: m.concurrency, value: m.opsPerSecond, unit: 'ops/s' });
}

export async function runBenchmarks({ quick, results }: BenchmarkOptions): Promise<void> {
  const rounds = quick ? 2 : 7;
  const server = await startMemcached({ args: ['-t', '1', '-m', '256'] });
  const unpin = pinApart(server.pid);
  const address = server.servers[0] as string;
  const raw = rawMemjs(address);
  const eden = memcached3rdEden(address);
  const mcc = memcacheClient(address);
  const client = new MemcachedClient({ transport: memjsTransport(), servers: server.servers });
  const tracking = new MemcachedClient({
    transport: memjsTransport(),
    servers: server.servers,
    trackKeys: true,
  });
  let n = 0;
  const nextKey = () => `bench-${n++ % KEYS}`;

  try {
    log('preparing keys');
    for (let i = 0; i < KEYS; i++) {
      await Promise.all([
        raw.set(`bench-${i}`, VALUE),
        client.set(`bench-${i}`, VALUE),
        client.set(`deps-${i}`, VALUE, { dependencies: ['d1', 'd2', 'd3'] }),
        client.getOrSet(`rt-${i}`, () => VALUE, { lifetime: 3600 }),
      ]);
    }

    for (const concurrency of [1, 64]) {
      log(`get / set at concurrency ${concurrency}`);
      const gets = await compare(
        [
          { name: 'raw memjs get', op: () => raw.get(nextKey()) },
          { name: 'MemcachedClient.query (memjs transport)', op: () => client.query(nextKey()) },
          { name: 'memcached (3rd-Eden) get', op: () => eden.get(nextKey()) },
          { name: 'memcache-client get', op: () => mcc.get(nextKey()) },
        ],
        concurrency,
        { rounds },
      );
      const baseGet = byName(gets, 'raw memjs get');
      const queryRow = byName(gets, 'MemcachedClient.query (memjs transport)');
      if (concurrency === 1) {
        // A few percent decide this target: measured again call by call (measure.ts, `alternate`).
        ratioRow('query vs raw memjs get', queryRow, baseGet);
        const { ratio, fifths } = await alternate(
          [
            { name: 'raw memjs get', op: () => raw.get(nextKey()) },
            { name: 'query', op: () => client.query(nextKey()) },
          ],
          1,
          quick ? 2000 : 20_000,
        );
        rows.push({
          group: 'query vs raw memjs get',
          subject: `call by call: fifths ${fifths.map((r) => r.toFixed(2)).join(' ')}`,
          concurrency: 1,
          value: queryRow.opsPerSecond,
          unit: 'ops/s',
          ratio,
          target: '≥ 0.97× raw memjs',
          met: ratio >= 0.97,
        });
      } else {
        ratioRow('query vs raw memjs get', queryRow, baseGet, {
          text: '≥ 2× raw memjs (batched)',
          met: (r) => r >= 2,
        });
      }
      ratioRow('peers: get', byName(gets, 'memcached (3rd-Eden) get'), baseGet);
      ratioRow('peers: get', byName(gets, 'memcache-client get'), baseGet);

      const sets = await compare(
        [
          { name: 'raw memjs set', op: () => raw.set(nextKey(), VALUE) },
          { name: 'MemcachedClient.set (memjs transport)', op: () => client.set(nextKey(), VALUE) },
          { name: 'memcached (3rd-Eden) set', op: () => eden.set(nextKey(), VALUE) },
          { name: 'memcache-client set', op: () => mcc.set(nextKey(), VALUE) },
        ],
        concurrency,
        { rounds },
      );
      const baseSet = byName(sets, 'raw memjs set');
      ratioRow('set vs raw memjs set', byName(sets, 'MemcachedClient.set (memjs transport)'), baseSet, {
        text: '≥ 0.95× raw memjs',
        met: (r) => r >= 0.95,
      });
      ratioRow('peers: set', byName(sets, 'memcached (3rd-Eden) set'), baseSet);
      ratioRow('peers: set', byName(sets, 'memcache-client set'), baseSet);

      log(`dependencies and tracking at concurrency ${concurrency}`);
      const deps = await compare(
        [
          { name: 'query, no dependencies', op: () => client.query(nextKey()) },
          { name: 'query, 3 dependencies', op: () => client.query(`deps-${n++ % KEYS}`) },
        ],
        concurrency,
        { rounds },
      );
      const plain = byName(deps, 'query, no dependencies');
      ratioRow(
        'query with 3 dependencies vs without',
        byName(deps, 'query, 3 dependencies'),
        plain,
        concurrency === 1
          ? { text: 'latency ≤ 2.2× (ratio ≥ 0.45)', met: (r) => 1 / r <= 2.2 }
          : { text: 'throughput ≤ 1.3× slower (ratio ≥ 0.77)', met: (r) => 1 / r <= 1.3 },
      );

      log(`getOrSet hit vs query at concurrency ${concurrency}`);
      const readThrough = await compare(
        [
          { name: 'query (hit)', op: () => client.query(`rt-${n++ % KEYS}`) },
          {
            name: 'getOrSet (hit)',
            op: () => client.getOrSet(`rt-${n++ % KEYS}`, () => VALUE, { lifetime: 3600, earlyRefresh: 0 }),
          },
        ],
        concurrency,
        { rounds },
      );
      ratioRow(
        'getOrSet hit vs query',
        byName(readThrough, 'getOrSet (hit)'),
        byName(readThrough, 'query (hit)'),
        {
          text: '≥ 0.9× (≤ 1.1× the cost)',
          met: (r) => r >= 0.9,
        },
      );

      log(`set with trackKeys vs without at concurrency ${concurrency}`);
      const plainSet: Subject = { name: 'set, trackKeys off', op: () => client.set(nextKey(), VALUE) };
      const trackedSet: Subject = { name: 'set, trackKeys on', op: () => tracking.set(nextKey(), VALUE) };
      const tracked = await compare([plainSet, trackedSet], concurrency, { rounds });
      const trackedRow = byName(tracked, 'set, trackKeys on');
      const trackTarget = { text: '≥ 0.8× a plain set', met: (r: number) => r >= 0.8 };
      ratioRow(
        'set with trackKeys vs without',
        trackedRow,
        byName(tracked, 'set, trackKeys off'),
        trackTarget,
      );
      // Call by call as well (measure.ts, `alternate`), with the ratio of total times: a compaction of the
      // client's own record is one slow call in many, which medians leave out.
      const byCall = await alternate([plainSet, trackedSet], concurrency, quick ? 1000 : 5000);
      rows.push({
        group: 'set with trackKeys vs without',
        subject: `call by call: fifths ${byCall.fifths.map((r) => r.toFixed(2)).join(' ')}; total time ${byCall.throughputRatio.toFixed(2)}×`,
        concurrency,
        value: trackedRow.opsPerSecond,
        unit: 'ops/s',
        ratio: byCall.ratio,
        target: trackTarget.text,
        met: trackTarget.met(byCall.ratio),
      });
    }

    log('keys() at 1k and 10k tracked keys');
    let previous: number | undefined;
    for (const size of [1000, 10_000]) {
      const ns = `keys-${size}`;
      const owner = new MemcachedClient({
        transport: memjsTransport(),
        servers: server.servers,
        trackKeys: true,
        defaultNS: ns,
      });
      for (let i = 0; i < size; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, size - i) }, (_, j) => owner.set(i + j, VALUE)));
      }
      const ms = await timeOnce(
        quick ? 2 : 5,
        async () => {},
        async () => {
          const keys = await owner.keys();
          if (keys.length !== size) throw new Error(`keys() returned ${keys.length}, expected ${size}`);
        },
      );
      rows.push({
        group: 'keys()',
        subject: `${size.toLocaleString('en-US')} tracked keys`,
        concurrency: '',
        value: ms,
        unit: 'ms',
        ratio: previous === undefined ? undefined : ms / previous,
        target: previous === undefined ? undefined : 'growth ~linear (10× keys)',
      });
      previous = ms;
      await owner.close();
    }

    log('invalidate by a dependency with 1, 100 and 10k dependents');
    for (const dependents of [1, 100, 10_000]) {
      const ms = await timeOnce(
        quick ? 1 : 3,
        async () => {
          for (let i = 0; i < dependents; i += 500) {
            await Promise.all(
              Array.from({ length: Math.min(500, dependents - i) }, (_, j) =>
                client.set(`inv-${i + j}`, VALUE, { dependencies: ['big-dependency'] }),
              ),
            );
          }
        },
        () => client.invalidate(undefined, { dependencies: ['big-dependency'] }),
      );
      rows.push({
        group: 'invalidate(dependency)',
        subject: `${dependents.toLocaleString('en-US')} dependents`,
        concurrency: '',
        value: ms,
        unit: 'ms',
      });
    }

    log('memory transport vs an async Map, and TestMemcachedClient');
    const memory = memoryTransport()(['127.0.0.1:11211']);
    const map = new Map<string, Uint8Array>();
    const asyncMap = {
      get: async (key: string) => map.get(key),
      set: async (key: string, value: Uint8Array) => void map.set(key, value),
    };
    const bytes = Buffer.from(VALUE);
    for (let i = 0; i < KEYS; i++) {
      await memory.set(`bench-${i}`, bytes);
      await asyncMap.set(`bench-${i}`, bytes);
    }
    const memGets = await compare(
      [
        { name: 'async Map get', op: () => asyncMap.get(nextKey()) },
        { name: 'memory transport get', op: () => memory.get(nextKey()) },
        { name: 'async Map set', op: () => asyncMap.set(nextKey(), bytes) },
        { name: 'memory transport set', op: () => memory.set(nextKey(), bytes) },
      ],
      1,
      { rounds },
    );
    const within3 = { text: 'within 3× (ratio ≥ 0.33)', met: (r: number) => r >= 1 / 3 };
    ratioRow(
      'memory transport vs async Map',
      byName(memGets, 'memory transport get'),
      byName(memGets, 'async Map get'),
      within3,
    );
    ratioRow(
      'memory transport vs async Map',
      byName(memGets, 'memory transport set'),
      byName(memGets, 'async Map set'),
      within3,
    );

    const testClient = new TestMemcachedClient();
    for (let i = 0; i < KEYS; i++) await testClient.set(`bench-${i}`, VALUE);
    const testOps = await compare(
      [
        { name: 'TestMemcachedClient.query', op: () => testClient.query(nextKey()) },
        { name: 'TestMemcachedClient.set', op: () => testClient.set(nextKey(), VALUE) },
      ],
      1,
      { rounds },
    );
    for (const m of testOps) plainRow('TestMemcachedClient (users’ unit tests)', m);

    log(
      'L1: hits vs a memcached query vs bentocache (L1 + Redis L2), a hot key invalidated 10×/s over the Redis bus',
    );
    rows.push(...(await measureL1({ quick, servers: server.servers })));

    log(
      'read-through: a cold stampede over 4 processes beside bentocache (Redis L2), p99 during a refresh, a page through getOrSetMany, a soft invalidation under load',
    );
    unpin?.(); // the stampede's processes and servers spread over every core, as in production
    const { stampedes, grace, many, soft } = await measureReadThrough({ quick });
    for (const stampede of stampedes) {
      rows.push({
        group: 'cold stampede: 1,000 callers, 4 processes, factory 300 ms',
        subject: `${stampede.subject}: ${stampede.factoryCalls} factory call(s); p50 ${stampede.p50Ms} ms`,
        concurrency: '',
        value: stampede.allServedMs,
        unit: 'ms',
        target:
          stampede.subject === 'ours'
            ? '1 factory call; all served ≈ one factory run + a few polls'
            : undefined,
        met:
          stampede.subject === 'ours'
            ? stampede.factoryCalls === 1 && stampede.allServedMs < 300 + 250
            : undefined,
      });
    }
    rows.push({
      group: 'refresh within grace: caller p99',
      subject: `p99 while refreshing vs p99 of plain hits (${grace.hitP99Ms.toFixed(2)} ms)`,
      concurrency: '',
      value: grace.refreshP99Ms,
      unit: 'ms',
      ratio: grace.refreshP99Ms / grace.hitP99Ms,
      target: 'stays at the hit latency',
    });
    // A page is one operation here: pages per second, so the ratio reads as the other throughput ratios.
    const pageGroup = `a page of ${PAGE_KEYS} keys, ${PAGE_MISSING} missing, one page at a time; data source: ${DATABASE_MODEL}`;
    rows.push({
      group: pageGroup,
      subject: `${PAGE_KEYS} concurrent getOrSet: ${many.singleMs.toFixed(2)} ms a page, ${many.singleFactoryCalls} factory calls, ${many.singleQueries} queries (database busy ${many.singleDatabaseMs.toFixed(1)} ms)`,
      concurrency: '',
      value: 1000 / many.singleMs,
      unit: 'ops/s',
    });
    const pageRatio = many.singleMs / many.manyMs;
    rows.push({
      group: pageGroup,
      subject: `getOrSetMany: ${many.manyMs.toFixed(2)} ms a page, ${many.manyFactoryCalls} factory call, ${many.manyQueries} query (database busy ${many.manyDatabaseMs.toFixed(1)} ms)`,
      concurrency: '',
      value: 1000 / many.manyMs,
      unit: 'ops/s',
      ratio: pageRatio,
      target: `≥ 2× the pages/s; 1 factory call vs ${PAGE_MISSING}`,
      met: pageRatio >= 2 && many.manyFactoryCalls === 1 && many.singleFactoryCalls === PAGE_MISSING,
    });
    rows.push({
      group: `soft-invalidated hot key, ${soft.callers} concurrent callers: caller p99`,
      subject: `p99 right after invalidate(key, { soft: true }) vs p99 of plain hits (${soft.hitP99Ms.toFixed(2)} ms); p50 ${soft.softP50Ms.toFixed(2)} vs ${soft.hitP50Ms.toFixed(2)} ms; ${soft.refreshesPerTrial} refresh (factory ${soft.factoryMs} ms) per invalidation`,
      concurrency: soft.callers,
      value: soft.softP99Ms,
      unit: 'ms',
      ratio: soft.softP99Ms / soft.hitP99Ms,
      target: 'stays at the hit latency',
    });

    log('losing a server: a cut without and with a gutter, a returned server, missed deletes replayed');
    rows.push(...(await measureServerLoss()));

    const version = (await client.getStatistics())[0]?.[1].version ?? '?';
    const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, memcached ${version} (-t 1, loopback${unpin === undefined ? '' : '; memcached and the client pinned to a core each, but for the stampede'}), ${new Date().toISOString().slice(0, 10)}`;
    mkdirSync(results, { recursive: true });
    const table = markdown(rows, machine);
    writeFileSync(join(results, 'results.md'), `# Benchmark results\n\n${table}`);
    writeFileSync(join(results, 'ratios.svg'), svgChart(rows));
    process.stdout.write(table);
    log(`written to ${join(results, 'results.md')} and ratios.svg`);
  } finally {
    await Promise.all([client.close(), tracking.close()]);
    raw.close();
    eden.close();
    mcc.close();
    await server.stop();
  }
}
