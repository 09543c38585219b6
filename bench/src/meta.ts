/**
 * `pnpm --filter @lovely-memcached/bench meta`: the meta transport beside the memjs transport and raw memjs, in
 * one run, interleaved (measure.ts), against its own memcached (one thread, loopback, a free port):
 * - `query` and `set` at concurrency 1 and 64;
 * - a multi-get of 100 keys (transport `getMulti`; raw memjs, which has none, sends 100 pipelined gets);
 * - a `getOrSet` miss (a cold key: read, lease, factory, write, release) with memcached's own leases
 *   (`mg … N`) beside `add`-based leases.
 * Prints each figure and its ratio to the memjs transport. Target: meta ≥ 1.0× the memjs transport.
 */
import { buildPackages, readCommandLine } from './cli';
import { compare, type Measured } from './measure';
import { rawMemjs } from './peers';

const usage = `Usage: pnpm --filter @lovely-memcached/bench meta [--quick]

Builds the packages, starts its own memcached and compares the meta transport with the memjs transport and
raw memjs. About a minute (--quick: 2 rounds per comparison instead of 7).
`;

const { flags } = readCommandLine(process.argv.slice(2), usage, ['quick']);
buildPackages();
// Imported after the build: the benchmark measures the built packages, as users get them.
const { MemcachedClient } = await import('@lovely-memcached/core');
const { startMemcached } = await import('@lovely-memcached/testing');
const { memjsTransport } = await import('@lovely-memcached/transport-memjs');
const { metaTransport } = await import('@lovely-memcached/transport-meta');

const rounds = flags.quick ? 2 : 7;
const VALUE = 'v'.repeat(100);
const KEYS = 1000;
const log = (text: string) => process.stderr.write(`${text}\n`);

const server = await startMemcached({ args: ['-t', '1', '-m', '256'] });
const address = server.servers[0] as string;
const raw = rawMemjs(address);
const memjsClient = new MemcachedClient({ transport: memjsTransport(), servers: server.servers });
const metaClient = new MemcachedClient({ transport: metaTransport(), servers: server.servers });
const memjsRaw = memjsTransport()(server.servers);
const metaRaw = metaTransport()(server.servers);
let n = 0;
const nextKey = () => `bench-${n++ % KEYS}`;

interface Line {
  what: string;
  subject: string;
  value: string;
  ratio: number | undefined;
}
const lines: Line[] = [];
const byName = (measured: Measured[], name: string) => measured.find((m) => m.name === name) as Measured;

function report(what: string, measured: Measured[], base: string, unit: 'ops/s' | 'ms' = 'ops/s'): void {
  const baseline = byName(measured, base);
  for (const m of measured) {
    lines.push({
      what,
      subject: m.name,
      value:
        unit === 'ops/s'
          ? `${Math.round(m.opsPerSecond).toLocaleString('en')} ops/s`
          : `${m.latencyMs.toFixed(3)} ms`,
      ratio: m === baseline ? undefined : m.opsPerSecond / baseline.opsPerSecond,
    });
  }
}

try {
  log('preparing keys');
  for (let i = 0; i < KEYS; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        Promise.all([raw.set(`bench-${i + j}`, VALUE), memjsClient.set(`bench-${i + j}`, VALUE)]),
      ),
    );
  }
  const MEMJS_T = 'memjs transport';
  const META_T = 'meta transport';

  for (const concurrency of [1, 64]) {
    log(`query / set at concurrency ${concurrency}`);
    report(
      `query, concurrency ${concurrency}`,
      await compare(
        [
          { name: MEMJS_T, op: () => memjsClient.query(nextKey()) },
          { name: META_T, op: () => metaClient.query(nextKey()) },
          { name: 'raw memjs get', op: () => raw.get(nextKey()) },
        ],
        concurrency,
        { rounds },
      ),
      MEMJS_T,
    );
    report(
      `set, concurrency ${concurrency}`,
      await compare(
        [
          { name: MEMJS_T, op: () => memjsClient.set(nextKey(), VALUE) },
          { name: META_T, op: () => metaClient.set(nextKey(), VALUE) },
          { name: 'raw memjs set', op: () => raw.set(nextKey(), VALUE) },
        ],
        concurrency,
        { rounds },
      ),
      MEMJS_T,
    );
  }

  log('multi-get of 100 keys');
  const hundred = () => {
    const start = n;
    n += 100;
    return Array.from({ length: 100 }, (_, i) => `bench-${(start + i) % KEYS}`);
  };
  report(
    'multi-get of 100 keys',
    await compare(
      [
        { name: MEMJS_T, op: () => memjsRaw.getMulti?.(hundred()) ?? Promise.resolve() },
        { name: META_T, op: () => metaRaw.getMulti?.(hundred()) ?? Promise.resolve() },
        { name: 'raw memjs, 100 gets', op: () => Promise.all(hundred().map((key) => raw.get(key))) },
      ],
      1,
      { rounds },
    ),
    MEMJS_T,
  );

  log('getOrSet miss (cold key): server-side leases vs add leases');
  const miss = (client: InstanceType<typeof MemcachedClient>) => () =>
    client.getOrSet(`cold-${process.pid}-${n++}`, () => VALUE, { lifetime: 60 });
  const addLeasesMeta = new MemcachedClient({
    transport: metaTransport({ serverLeases: false }),
    servers: server.servers,
  });
  report(
    'getOrSet miss latency',
    await compare(
      [
        { name: 'memjs transport (add leases)', op: miss(memjsClient) },
        { name: 'meta transport, server-side leases', op: miss(metaClient) },
        { name: 'meta transport, add leases', op: miss(addLeasesMeta) },
      ],
      1,
      { rounds },
    ),
    'memjs transport (add leases)',
    'ms',
  );
  await addLeasesMeta.close();

  const width = (pick: (line: Line) => string) => Math.max(...lines.map((line) => pick(line).length));
  const [w1, w2, w3] = [width((l) => l.what), width((l) => l.subject), width((l) => l.value)];
  process.stdout.write(`\nmeta transport benchmark (memcached ${address}, ${rounds} interleaved rounds)\n\n`);
  for (const line of lines) {
    const ratio = line.ratio === undefined ? '(baseline)' : `${line.ratio.toFixed(2)}×`;
    process.stdout.write(
      `${line.what.padEnd(w1)}  ${line.subject.padEnd(w2)}  ${line.value.padStart(w3)}  ${ratio}\n`,
    );
  }
  const metaRatios = lines.filter((l) => l.subject === META_T && l.ratio !== undefined);
  const below = metaRatios.filter((l) => (l.ratio as number) < 1);
  process.stdout.write(
    `\ntarget meta transport ≥ 1.0× memjs transport: ${below.length === 0 ? 'met' : `missed in ${below.map((l) => l.what).join(', ')}`}\n`,
  );
} finally {
  raw.close();
  await Promise.all([memjsClient.close(), metaClient.close(), memjsRaw.close(), metaRaw.close()]);
  await server.stop();
}
process.exit(0);
