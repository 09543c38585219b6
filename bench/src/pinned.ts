/**
 * `pnpm --filter @lovely-memcached/bench pinned [samples]`: the ratios whose targets sit within this VM's
 * run-to-run noise, measured the way that settles them:
 * - memcached (one thread) pinned to one core and this process to another (`taskset`, when there are two cores
 *   and it is installed), so the two never queue behind each other on one core;
 * - the two sides of a ratio alternate call by call, each call timed, and the ratio is of their median
 *   latencies: interleaving whole 200 ms tinybench runs (measure.ts) left quartiles ±5 % apart on this VM.
 * Rows: a lone `query` and the memjs transport's own `get` against raw memjs (target ≥ 0.97×), and a `getOrSet`
 * hit against a `query` at concurrency 1 and 64 (target ≥ 0.9×).
 */
import { buildPackages, readCommandLine } from './cli';
import { alternate, type Subject } from './measure';
import { rawMemjs } from './peers';
import { pinApart } from './pin';

const usage = `Usage: pnpm --filter @lovely-memcached/bench pinned [samples]

Builds the packages, starts its own memcached pinned to one core (this process on another) and prints each
ratio from [samples] calls of each side, alternated call by call (default 20000; about a minute in all).
`;

const { positionals } = readCommandLine(process.argv.slice(2), usage, [], 1);
const samples = Number(positionals[0] ?? 20_000);
if (!Number.isInteger(samples) || samples < 100) {
  process.stderr.write(`samples must be a whole number ≥ 100, got ${positionals[0]}\n\n${usage}`);
  process.exit(2);
}
buildPackages();
// Imported after the build: the benchmark measures the built packages, as users get them.
const { MemcachedClient } = await import('@lovely-memcached/core');
const { startMemcached } = await import('@lovely-memcached/testing');
const { memjsTransport } = await import('@lovely-memcached/transport-memjs');

const VALUE = 'v'.repeat(100);
const KEYS = 1000;
const server = await startMemcached({ args: ['-t', '1', '-m', '256'] });
const pinned = pinApart(server.pid) !== undefined;
const address = server.servers[0] as string;
const raw = rawMemjs(address);
const client = new MemcachedClient({ transport: memjsTransport(), servers: server.servers });
const transport = memjsTransport()(server.servers);
let n = 0;
const next = () => n++ % KEYS;

/** The ratio (alternate() in measure.ts) with each fifth of the samples beside it, to show its spread. */
async function ratios(subjects: [Subject, Subject], concurrency: number): Promise<string> {
  const { ratio, fifths } = await alternate(subjects, concurrency, samples);
  return `${ratio.toFixed(3)}× (fifths ${fifths.map((r) => r.toFixed(3)).join(' ')})`;
}

try {
  for (let i = 0; i < KEYS; i++) {
    await Promise.all([
      raw.set(`bench-${i}`, VALUE),
      client.set(`bench-${i}`, VALUE),
      client.getOrSet(`rt-${i}`, () => VALUE, { lifetime: 3600 }),
    ]);
  }
  const rawGet: Subject = { name: 'raw memjs get', op: () => raw.get(`bench-${next()}`) };
  const query: Subject = { name: 'query', op: () => client.query(`bench-${next()}`) };
  const hit: Subject = {
    name: 'getOrSet hit',
    op: () => client.getOrSet(`rt-${next()}`, () => VALUE, { lifetime: 3600 }),
  };
  const lines = [
    `memcached -t 1 on a free loopback port; ${pinned ? 'memcached pinned to core 1, this process to core 0' : 'NOT pinned (one core, or no taskset)'}; ${samples} calls of each side`,
    '',
    '| ratio | concurrency | ratio of median latencies | target |',
    '|---|---:|---:|---|',
    `| query / raw memjs get | 1 | ${await ratios([rawGet, query], 1)} | ≥ 0.97× |`,
    `| memjs transport get / raw memjs get | 1 | ${await ratios([rawGet, { name: 'transport get', op: () => transport.get(`bench-${next()}`) }], 1)} | |`,
    `| getOrSet hit / query | 1 | ${await ratios([query, hit], 1)} | ≥ 0.9× |`,
    `| getOrSet hit / query | 64 | ${await ratios([query, hit], 64)} | ≥ 0.9× |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  raw.close();
  await transport.close();
  await client.close();
  await server.stop();
}
