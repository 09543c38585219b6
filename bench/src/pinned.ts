/**
 * `pnpm --filter @lovely-memcached/bench pinned [rounds]`: the ratios whose targets sit within this VM's
 * run-to-run noise, measured the way that settles them:
 * - memcached (one thread) pinned to one core and this process to another (`taskset`, when there are two cores
 *   and it is installed), so the two never queue behind each other on one core;
 * - every round runs every subject of a comparison once (tinybench, rotated order), and the figure is the median
 *   of the per-round ratios (a drifting VM moves both sides of a round alike), with the quartiles beside it.
 * Rows: a lone `query` and the memjs transport's own `get` against raw memjs (target ≥ 0.97×), and a `getOrSet`
 * hit against a `query` at concurrency 1 and 64 (target ≥ 0.9×).
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { buildPackages, readCommandLine } from './cli';
import { compare, type Subject } from './measure';
import { rawMemjs } from './peers';

const usage = `Usage: pnpm --filter @lovely-memcached/bench pinned [rounds]

Builds the packages, starts its own memcached pinned to one core (this process on another) and prints the
median of per-round ratios over [rounds] interleaved rounds (default 40; about 2 s per round).
`;

const { positionals } = readCommandLine(process.argv.slice(2), usage, [], 1);
const rounds = Number(positionals[0] ?? 40);
if (!Number.isInteger(rounds) || rounds < 3) {
  process.stderr.write(`rounds must be a whole number ≥ 3, got ${positionals[0]}\n\n${usage}`);
  process.exit(2);
}
buildPackages();
// Imported after the build: the benchmark measures the built packages, as users get them.
const { MemcachedClient } = await import('@lovely-memcached/core');
const { startMemcached } = await import('@lovely-memcached/testing');
const { memjsTransport } = await import('@lovely-memcached/transport-memjs');

/** Pins every thread of `pid` to `core`; false when it cannot (one core, or no taskset). */
function pin(pid: number, core: number): boolean {
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const VALUE = 'v'.repeat(100);
const KEYS = 1000;
const server = await startMemcached({ args: ['-t', '1', '-m', '256'] });
const pinned = pin(server.pid, 1) && pin(process.pid, 0);
const address = server.servers[0] as string;
const raw = rawMemjs(address);
const client = new MemcachedClient({ transport: memjsTransport(), servers: server.servers });
const transport = memjsTransport()(server.servers);
let n = 0;
const next = () => n++ % KEYS;

/** Median and quartiles of the per-round ratios of `subject` to `base` (the first subject). */
async function ratios(subjects: [Subject, Subject], concurrency: number): Promise<string> {
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const [base, subject] = await compare(subjects, concurrency, { rounds: 1 });
    perRound.push((subject?.opsPerSecond ?? 0) / (base?.opsPerSecond ?? 1));
  }
  perRound.sort((a, b) => a - b);
  const at = (q: number) => (perRound[Math.floor(q * (perRound.length - 1))] as number).toFixed(3);
  return `${at(0.5)}× (quartiles ${at(0.25)}–${at(0.75)})`;
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
    `memcached -t 1 on a free loopback port; ${pinned ? 'memcached pinned to core 1, this process to core 0' : 'NOT pinned (one core, or no taskset)'}; ${rounds} rounds`,
    '',
    '| ratio | concurrency | median of per-round ratios | target |',
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
