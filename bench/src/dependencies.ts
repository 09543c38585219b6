/**
 * What dependencies cost, as ratios to the plain operation, interleaved in one run on a memcached it starts
 * (-t 1): set with 1 and 3 dependencies (shared hot ones and distinct ones), set tied to a dependency that
 * already has 50k dependents, query of an entry with 3 dependencies, and invalidating a dependency with 10k
 * dependents beside 10k plain concurrent sets. Round trips and bytes per operation from memcached's stats.
 *
 *   pnpm --filter @lovely-memcached/bench dependencies [--quick]
 */
import { fileURLToPath } from 'node:url';
import { MemcachedClient } from '@lovely-memcached/core';
import { startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { compare, type Measured, timeOnce } from './measure';
import { pinApart } from './pin';

const VALUE = 'v'.repeat(100);
const KEYS = 1000;

export interface DependencyRow {
  comparison: string;
  concurrency: number | '';
  ratio: number;
  target: string;
  met: boolean;
}

const byName = (measured: Measured[], name: string) => measured.find((m) => m.name === name) as Measured;

export async function measureDependencies({ quick = false } = {}): Promise<DependencyRow[]> {
  const rounds = quick ? 3 : 7;
  const server = await startMemcached({ args: ['-t', '1', '-m', '512'] });
  const unpin = pinApart(server.pid);
  const client = new MemcachedClient({ transport: memjsTransport(), servers: server.servers });
  const rows: DependencyRow[] = [];
  let n = 0;
  const key = () => `k-${n++ % KEYS}`;
  try {
    // 50k entries already tied to one dependency.
    for (let i = 0; i < 50_000; i += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, j) =>
          client.set(`crowd-${i + j}`, VALUE, { dependencies: ['crowded'] }),
        ),
      );
    }
    for (let i = 0; i < KEYS; i++) await client.set(`q3-${i}`, VALUE, { dependencies: ['qa', 'qb', 'qc'] });
    for (let i = 0; i < KEYS; i++) await client.set(`q0-${i}`, VALUE);

    for (const concurrency of [1, 64]) {
      const sets = await compare(
        [
          { name: 'plain', op: () => client.set(key(), VALUE) },
          { name: '1 shared', op: () => client.set(key(), VALUE, { dependencies: ['hot-1'] }) },
          {
            name: '3 shared',
            op: () => client.set(key(), VALUE, { dependencies: ['hot-1', 'hot-2', 'hot-3'] }),
          },
          {
            name: '3 distinct',
            op: () => {
              const i = n++ % KEYS;
              return client.set(`k-${i}`, VALUE, { dependencies: [`d-${i}`, `e-${i % 97}`, `f-${i % 13}`] });
            },
          },
          { name: 'crowded', op: () => client.set(key(), VALUE, { dependencies: ['crowded'] }) },
        ],
        concurrency,
        { rounds },
      );
      const plain = byName(sets, 'plain');
      const ratio = (name: string) => byName(sets, name).opsPerSecond / plain.opsPerSecond;
      rows.push(
        {
          comparison: 'set, 1 shared dependency / plain set',
          concurrency,
          ratio: ratio('1 shared'),
          target: '',
          met: true,
        },
        {
          comparison: 'set, 3 shared dependencies / plain set',
          concurrency,
          ratio: ratio('3 shared'),
          target: '≥ 0.5×',
          met: ratio('3 shared') >= 0.5,
        },
        {
          comparison: 'set, 3 distinct dependencies / plain set',
          concurrency,
          ratio: ratio('3 distinct'),
          target: '≥ 0.5×',
          met: ratio('3 distinct') >= 0.5,
        },
        {
          comparison: 'set tied to a dependency with 50k dependents / plain set',
          concurrency,
          ratio: ratio('crowded'),
          target: 'as 1 shared',
          met: ratio('crowded') >= ratio('1 shared') * 0.8,
        },
      );
      const queries = await compare(
        [
          { name: 'plain', op: () => client.query(`q0-${n++ % KEYS}`) },
          { name: '3 deps', op: () => client.query(`q3-${n++ % KEYS}`) },
        ],
        concurrency,
        { rounds },
      );
      const q = byName(queries, '3 deps').opsPerSecond / byName(queries, 'plain').opsPerSecond;
      rows.push({
        comparison: 'query of an entry with 3 dependencies / plain query',
        concurrency,
        ratio: q,
        target: '≥ 0.77×',
        met: q >= 0.77,
      });
    }

    const tenK = Array.from({ length: 10_000 }, (_, i) => `inv-${i}`);
    const setAll = () => Promise.all(tenK.map((k) => client.set(k, VALUE)));
    const tieAll = async () => {
      for (let i = 0; i < tenK.length; i += 2000) {
        await Promise.all(
          tenK.slice(i, i + 2000).map((k) => client.set(k, VALUE, { dependencies: ['ten-k'] })),
        );
      }
    };
    const runs = quick ? 2 : 5;
    const setsMs = await timeOnce(runs, async () => {}, setAll);
    const invalidateMs = await timeOnce(runs, tieAll, () =>
      client.invalidate(undefined, { dependencies: ['ten-k'] }),
    );
    rows.push({
      comparison: 'invalidate of a dependency with 10k dependents / 10k plain concurrent sets (time)',
      concurrency: '',
      ratio: invalidateMs / setsMs,
      target: '≤ 0.5×',
      met: invalidateMs / setsMs <= 0.5,
    });
  } finally {
    unpin?.();
    await client.close();
    await server.stop();
  }
  return rows;
}

export function dependencyTable(rows: readonly DependencyRow[]): string {
  const lines = ['| comparison | concurrency | ratio | target | met |', '|---|---:|---:|---|---|'];
  for (const r of rows) {
    lines.push(
      `| ${r.comparison} | ${r.concurrency} | ${r.ratio.toFixed(2)}× | ${r.target} | ${r.target ? (r.met ? 'yes' : '**no**') : ''} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(
    dependencyTable(await measureDependencies({ quick: process.argv.includes('--quick') })),
  );
  process.exit(0);
}
