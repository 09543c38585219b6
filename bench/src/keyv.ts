/**
 * Keyv on memcached, two stores in one run: `@lovely-memcached/keyv` (KeyvLovelyMemcached over the memjs
 * transport) beside `@keyv/memcache` (Keyv's own store, on raw memjs), both under the same Keyv 5 with its
 * default serializer, against one memcached started for the run. get (of 1,000 preloaded keys, taken in turn,
 * so concurrent gets never share a key) and set (ttl one minute), at concurrency 1 and 64; measured
 * interleaved as `npm run bench` does (measure.ts). Prints a table with the ratio ours / @keyv/memcache, then
 * what a get costs through each store while its server is dead (refused connections, or a blackhole).
 *
 *   pnpm --filter @lovely-memcached/bench keyv [--quick]     (builds the packages first; --help for the options)
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { buildPackages, readCommandLine } from './cli';

const usage = `Usage: pnpm --filter @lovely-memcached/bench keyv [--quick]

Builds the packages, starts its own memcached (one thread, loopback, a free port) and measures Keyv get and
set through @lovely-memcached/keyv and through @keyv/memcache, at concurrency 1 and 64, then what a get
costs against a dead server (connections refused, and a blackhole). About a minute.

  --quick   2 rounds per comparison instead of 7: a rough look; the figures are noisier
  --help    print this and exit
`;

const { flags } = readCommandLine(process.argv.slice(2), usage, ['quick']);
buildPackages();

// Imported after the build: they are measured as users get them, from dist/.
const { default: KeyvMemcache } = await import('@keyv/memcache');
const { MemcachedClient } = await import('@lovely-memcached/core');
const { KeyvLovelyMemcached } = await import('@lovely-memcached/keyv');
const { freePort, startMemcached } = await import('@lovely-memcached/testing');
const { memjsTransport } = await import('@lovely-memcached/transport-memjs');
const { Keyv } = await import('keyv');
const { compare } = await import('./measure');

const KEYS = 1000;
const TTL_MS = 60_000;
const value = { id: 42, name: 'Ada Lovelace', roles: ['admin', 'author'], bio: 'x'.repeat(120) };

const memcached = await startMemcached({ args: ['-t', '1'] });
const server = memcached.servers[0] as string;
const client = new MemcachedClient({ transport: memjsTransport(), servers: memcached.servers });
const stores = {
  '@lovely-memcached/keyv': new Keyv({ store: new KeyvLovelyMemcached(client), namespace: 'bench' }),
  '@keyv/memcache': new Keyv({ store: new KeyvMemcache(server), namespace: 'bench' }),
};
for (const [name, keyv] of Object.entries(stores)) {
  keyv.on('error', (error: unknown) => process.stderr.write(`${name}: ${String(error)}\n`));
  await keyv.setMany(Array.from({ length: KEYS }, (_, i) => ({ key: `user:${i}`, value, ttl: TTL_MS })));
  if ((await keyv.get('user:7'))?.name !== value.name)
    throw new Error(`${name} does not read back its value`);
}

/** Each call takes the next key, so 64 concurrent operations touch 64 different keys. */
function rotating(operation: (key: string) => Promise<unknown>): () => Promise<unknown> {
  let next = 0;
  return () => operation(`user:${next++ % KEYS}`);
}

const rounds = flags.quick ? 2 : 7;
const rows: string[] = [];
for (const concurrency of [1, 64]) {
  for (const [operation, run] of [
    ['get', (keyv: (typeof stores)[keyof typeof stores]) => rotating((key) => keyv.get(key))],
    ['set', (keyv: (typeof stores)[keyof typeof stores]) => rotating((key) => keyv.set(key, value, TTL_MS))],
  ] as const) {
    const subjects = Object.entries(stores).map(([name, keyv]) => ({ name, op: run(keyv) }));
    const [ours, theirs] = await compare(subjects, concurrency, { rounds });
    if (ours === undefined || theirs === undefined) throw new Error('nothing measured');
    const ratio = ours.opsPerSecond / theirs.opsPerSecond;
    rows.push(
      `| ${operation} | ${concurrency} | ${format(ours.opsPerSecond)} | ${format(theirs.opsPerSecond)} | ${ratio.toFixed(2)}× |`,
    );
    process.stderr.write(`${operation} at concurrency ${concurrency}: ${ratio.toFixed(2)}×\n`);
  }
}

/**
 * A dead server, two kinds: a port nobody listens on (connections refused) and a blackhole (connections
 * accepted, nothing ever answered: a hung process or a dropped route). The time of the first get, then the
 * median of the next ten, through each store: what every cache read costs an application while it lasts.
 */
async function deadServer(kind: 'refused' | 'blackhole'): Promise<string[]> {
  const accepted: Socket[] = [];
  const blackhole = createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  const port = kind === 'refused' ? await freePort() : (blackhole.address() as AddressInfo).port;
  const address = `127.0.0.1:${port}`;
  const ours = new KeyvLovelyMemcached({ transport: memjsTransport(), servers: address });
  const dead = {
    '@lovely-memcached/keyv': new Keyv({ store: ours }),
    '@keyv/memcache': new Keyv({ store: new KeyvMemcache(address) }),
  };
  const times: Record<string, { first: number; next: number }> = {};
  for (const [name, keyv] of Object.entries(dead)) {
    keyv.on('error', () => {}); // @keyv/memcache reports each failed call; the time is what is measured here
    const timed = async () => {
      const started = performance.now();
      await keyv.get('k');
      return performance.now() - started;
    };
    const first = await timed();
    const next: number[] = [];
    for (let i = 0; i < 10; i++) next.push(await timed());
    times[name] = { first, next: next.sort((a, b) => a - b)[5] as number };
  }
  await ours.disconnect();
  for (const socket of accepted) socket.destroy();
  blackhole.close();
  const ms = (value = Number.NaN) => `${value.toFixed(value < 1 ? 2 : value < 10 ? 1 : 0)} ms`;
  const a = times['@lovely-memcached/keyv'];
  const b = times['@keyv/memcache'];
  return [
    `| ${kind === 'refused' ? 'connection refused' : 'blackhole (never answers)'} | first get | ${ms(a?.first)} | ${ms(b?.first)} |`,
    `| | each get after it (median of 10) | ${ms(a?.next)} | ${ms(b?.next)} |`,
  ];
}

const deadRows = [...(await deadServer('refused')), ...(await deadServer('blackhole'))];

process.stdout.write(
  [
    `Node ${process.version}, memcached -t 1 on loopback, ${rounds} interleaved rounds, ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| operation | concurrency | @lovely-memcached/keyv | @keyv/memcache | ratio |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
    'A dead server (Keyv get, one caller):',
    '',
    '| server | call | @lovely-memcached/keyv | @keyv/memcache |',
    '|---|---|---:|---:|',
    ...deadRows,
    '',
  ].join('\n'),
);

await client.close();
await memcached.stop();
process.exit(0); // @keyv/memcache offers no way to close its memjs connections

function format(opsPerSecond: number): string {
  return `${Math.round(opsPerSecond).toLocaleString('en-US')} ops/s`;
}
