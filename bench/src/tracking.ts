/**
 * `pnpm --filter @lovely-memcached/bench tracking [samples]`: what `trackKeys` costs a `set`, measured like
 * pinned.ts: memcached (one thread) pinned to one core and this process to another, a `set` of a tracking client
 * and one of a plain client alternating call by call; the ratio of their median latencies (target ≥ 0.8× at
 * concurrency 1 and 64) and of their total times (which counts the rare call that compacts the client's record).
 * KEYS=unique sets a new key every call (records only grow); the default cycles through 1000 keys, as the
 * general benchmark does.
 */
import { buildPackages, readCommandLine } from './cli';
import { alternate, type Subject } from './measure';
import { pinApart } from './pin';

const usage = `Usage: pnpm --filter @lovely-memcached/bench tracking [samples]

Builds the packages, starts its own memcached pinned to one core (this process on another) and prints the ratio
of a set with trackKeys to a plain set at concurrency 1 and 64, from [samples] calls of each side alternated
call by call (default 5000; about 30 s). KEYS=unique in the environment: a new key every call (default: 1000
keys cycled through).
`;

const { positionals } = readCommandLine(process.argv.slice(2), usage, [], 1);
const samples = Number(positionals[0] ?? 5000);
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
/** Keys cycled through, as in benchmarks.ts; KEYS=unique sets a new key every time (records only grow). */
const KEYS = process.env.KEYS === 'unique' ? Number.POSITIVE_INFINITY : Number(process.env.KEYS ?? 1000);
const server = await startMemcached({ args: ['-t', '1', '-m', '256'] });
const pinned = pinApart(server.pid) !== undefined;
const client = new MemcachedClient({ transport: memjsTransport(), servers: server.servers });
const tracking = new MemcachedClient({
  transport: memjsTransport(),
  servers: server.servers,
  trackKeys: true,
});
let n = 0;
const next = () => `bench-${KEYS === Number.POSITIVE_INFINITY ? n++ : n++ % KEYS}`;

async function ratios(subjects: [Subject, Subject], concurrency: number): Promise<string> {
  const { ratio, fifths, throughputRatio } = await alternate(subjects, concurrency, samples);
  return `${ratio.toFixed(3)}× (fifths ${fifths.map((r) => r.toFixed(3)).join(' ')}) | ${throughputRatio.toFixed(3)}×`;
}

try {
  const plain: Subject = { name: 'set', op: () => client.set(next(), VALUE) };
  const tracked: Subject = { name: 'set, trackKeys', op: () => tracking.set(next(), VALUE) };
  const lines = [
    `memcached -t 1 on a free loopback port; ${pinned ? 'memcached pinned to core 1, this process to core 0' : 'NOT pinned (one core, or no taskset)'}; ${samples} calls of each side`,
    '',
    '| ratio | concurrency | ratio of median latencies | ratio of total times | target |',
    '|---|---:|---:|---:|---|',
    `| set with trackKeys / plain set | 1 | ${await ratios([plain, tracked], 1)} | ≥ 0.8× |`,
    `| set with trackKeys / plain set | 64 | ${await ratios([plain, tracked], 64)} | ≥ 0.8× |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await Promise.all([client.close(), tracking.close()]);
  await server.stop();
}
