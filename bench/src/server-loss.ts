/**
 * Losing a server (issue 26), measured over real memcached: three servers, each behind a relay that can refuse
 * connections (its port closed, reopened on the same port: a partition, the server keeps its data), and one
 * gutter server.
 * - a cut of one of three servers while `getOrSet` runs in rounds over every key: factory calls for the lost
 *   server's keys (per key) and the hit ratio of its keys, without and with a gutter;
 * - a returned server: how long after its relay is restored it is used again (the probe, then the deletes it
 *   missed), and how long a client that never saw the outage still reads a value invalidated during it (the
 *   window until the replay of the client that saw it reaches the server);
 * - replay throughput: 100,000 missed deletes applied on return, memjs and meta.
 *
 *   pnpm --filter @lovely-memcached/bench gutter   (also part of `npm run bench`, whose table has them)
 */
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import type { TransportEvent } from '@lovely-memcached/transport-kit';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { type MetaTransportOptions, metaTransport } from '@lovely-memcached/transport-meta';
import { type FaultProxy, startFaultProxy } from '../../test/support/fault-proxy';
import type { Row } from './report';

const KEYS = 3000;
const CONCURRENCY = 64;
const ROUNDS = 10;
const TRIALS = 15;
const REPLAYED = 100_000;
const VICTIM = 1;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Options {
  gutter?: { servers: string[] };
  onEvent?: (event: TransportEvent) => void;
  maxQueuedDeletes?: number;
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

async function until(check: () => boolean, within = 5000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > within) throw new Error(`not within ${within} ms`);
    await sleep(1);
  }
}

interface Cluster {
  primaries: RunningMemcached[];
  relays: FaultProxy[];
  gutter: RunningMemcached;
  servers: string[];
}

/** Which relay each key's reads go to, from the commands a client sends (the command channel, by server). */
async function lostKeys(cluster: Cluster, keys: readonly string[]): Promise<Set<string>> {
  const { commandChannel } = await import('@lovely-memcached/core');
  const probe = new MemcachedClient({ transport: memjsTransport(), servers: cluster.servers });
  const lost = new Set<string>();
  let current = '';
  const onStart = (message: unknown) => {
    if ((message as { server: string }).server === cluster.servers[VICTIM]) lost.add(current);
  };
  commandChannel.start.subscribe(onStart);
  try {
    for (const key of keys) {
      current = key;
      await probe.query(key);
    }
  } finally {
    commandChannel.start.unsubscribe(onStart);
    await probe.close();
  }
  return lost;
}

/** Factory calls per lost key and the lost keys' hit ratio while one of three servers is cut. */
async function cut(cluster: Cluster, withGutter: boolean) {
  const options: Options = withGutter ? { gutter: { servers: cluster.gutter.servers } } : {};
  const client = new MemcachedClient({ transport: memjsTransport(options), servers: cluster.servers });
  const prefix = `cut-${withGutter ? 'g' : 'n'}-${Date.now()}`;
  const keys = Array.from({ length: KEYS }, (_, i) => `${prefix}-${i}`);
  const lost = await lostKeys(cluster, keys);
  let calls = 0;
  let reads = 0;
  let hits = 0;
  const read = async (key: string, count: boolean) => {
    let computed = false;
    await client.getOrSet(
      key,
      async () => {
        computed = true;
        if (count && lost.has(key)) calls++;
        return key;
      },
      { lifetime: 600 },
    );
    if (count && lost.has(key)) {
      reads++;
      if (!computed) hits++;
    }
  };
  // CONCURRENCY callers at a time, as an application serving requests (not every key at once).
  const round = async (count: boolean) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < keys.length) await read(keys[next++] as string, count);
      }),
    );
  };
  try {
    await round(false);
    await (cluster.relays[VICTIM] as FaultProxy).refuse();
    await round(true);
    const first = calls;
    for (let i = 1; i < ROUNDS; i++) await round(true);
    return {
      total: calls / lost.size,
      first: first / lost.size,
      later: (calls - first) / lost.size / (ROUNDS - 1),
      hitRatio: hits / reads,
    };
  } finally {
    await (cluster.relays[VICTIM] as FaultProxy).restore();
    await client.close();
  }
}

/**
 * How long after the relay is restored the server is in use again, and how long a client that never saw the
 * outage reads a value invalidated during it.
 */
async function returns(cluster: Cluster) {
  const candidates = Array.from({ length: 10 * TRIALS }, (_, i) => `returned-${Date.now()}-${i}`);
  const lost = [...(await lostKeys(cluster, candidates))];
  const backMs: number[] = [];
  const exposedMs: number[] = [];
  const relay = cluster.relays[VICTIM] as FaultProxy;
  for (let trial = 0; trial < TRIALS; trial++) {
    const events: Array<{ type: string; at: number }> = [];
    const client = new MemcachedClient({
      transport: memjsTransport({
        onEvent: (event) => events.push({ type: event.type, at: performance.now() }),
      }),
      servers: cluster.servers,
    });
    const key = lost[trial] as string;
    await client.set(key, 'old');
    await relay.refuse();
    await client.invalidate(key); // refused there: remembered
    await sleep(50 + Math.random() * 250);
    const restored = performance.now();
    await relay.restore();
    // Another client, which never saw the outage, reads the key on the returned server until the first
    // client is back and the old value gone.
    const other = new MemcachedClient({ transport: memjsTransport(), servers: cluster.servers });
    let lastOld: number | undefined;
    for (;;) {
      const seen = await other.query(key);
      const now = performance.now();
      if (seen === 'old') lastOld = now;
      else if (events.some((event) => event.type === 'server-up')) break;
      if (now - restored > 5000) break;
    }
    await until(() => events.some((event) => event.type === 'server-up'));
    backMs.push((events.find((event) => event.type === 'server-up')?.at ?? 0) - restored);
    exposedMs.push(lastOld === undefined ? 0 : lastOld - restored);
    await Promise.all([client.close(), other.close()]);
  }
  return { backMs, exposedMs };
}

/** Deletes/s of the replay of REPLAYED missed deletes on one server. */
async function replay(cluster: Cluster, name: string, transport: (options: Options) => TransportFactory) {
  const relay = cluster.relays[0] as FaultProxy;
  const events: TransportEvent[] = [];
  const made = transport({ onEvent: (event) => events.push(event), maxQueuedDeletes: REPLAYED })([
    relay.address,
  ]);
  await made.get('warm');
  await relay.refuse();
  await made.get('warm'); // refused: down
  const keys = Array.from({ length: REPLAYED }, (_, i) => `replay-${name}-${i}`);
  await made.deleteMany?.(keys);
  await relay.restore();
  await until(() => events.some((event) => event.type === 'server-up'), 30_000);
  await made.close();
  const replayed = events.find((event) => event.type === 'replayed');
  if (replayed?.type !== 'replayed' || replayed.deletes !== REPLAYED) {
    throw new Error(`expected ${REPLAYED} deletes replayed, got ${JSON.stringify(replayed)}`);
  }
  return { perSecond: (replayed.deletes / replayed.ms) * 1000, ms: replayed.ms };
}

export async function measureServerLoss(): Promise<Row[]> {
  const primaries = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  const relays = await Promise.all(primaries.map((primary) => startFaultProxy(primary.port)));
  const cluster: Cluster = {
    primaries,
    relays,
    gutter: await startMemcached(),
    servers: relays.map((relay) => relay.address),
  };
  try {
    const without = await cut(cluster, false);
    const withGutter = await cut(cluster, true);
    const { backMs, exposedMs } = await returns(cluster);
    const memjs = await replay(cluster, 'memjs', (options) => memjsTransport(options));
    const meta = await replay(cluster, 'meta', (options) => metaTransport(options as MetaTransportOptions));
    const group = `losing 1 of 3 servers: getOrSet over ${KEYS.toLocaleString('en-US')} keys, ${CONCURRENCY} at a time, ${ROUNDS} rounds during the cut`;
    const returned = `a returned server (probeInterval 250 ms, ${TRIALS} trials)`;
    const ratio = withGutter.later / without.later;
    const about = (run: typeof without) =>
      `${run.total.toFixed(2)} per lost key in all, ${run.first.toFixed(2)} in the first round; its keys' hit ratio ${(100 * run.hitRatio).toFixed(1)} %`;
    return [
      {
        group,
        subject: `no gutter: factory calls per lost key and round after the first (${about(without)})`,
        concurrency: '',
        value: without.later,
        unit: '×',
      },
      {
        group,
        subject: `gutter: factory calls per lost key and round after the first (${about(withGutter)})`,
        concurrency: '',
        value: withGutter.later,
        unit: '×',
        ratio,
        target: '≤ 10 % of no gutter',
        met: ratio <= 0.1,
      },
      {
        group: returned,
        subject: `in use again after its relay is restored: median (max ${Math.round(Math.max(...backMs))} ms)`,
        concurrency: '',
        value: percentile(backMs, 50),
        unit: 'ms',
        target: '≤ 2 s',
        met: Math.max(...backMs) <= 2000,
      },
      {
        group: returned,
        subject: `a client that never saw the outage still reads a value invalidated during it: median (max ${Math.round(Math.max(...exposedMs))} ms)`,
        concurrency: '',
        value: percentile(exposedMs, 50),
        unit: 'ms',
      },
      {
        group: `missed deletes replayed on return (${REPLAYED.toLocaleString('en-US')})`,
        subject: `memjs (${Math.round(memjs.ms)} ms)`,
        concurrency: '',
        value: memjs.perSecond,
        unit: 'deletes/s',
      },
      {
        group: `missed deletes replayed on return (${REPLAYED.toLocaleString('en-US')})`,
        subject: `meta (${Math.round(meta.ms)} ms)`,
        concurrency: '',
        value: meta.perSecond,
        unit: 'deletes/s',
      },
    ];
  } finally {
    await Promise.all(relays.map((relay) => relay.close()));
    await Promise.all([...primaries, cluster.gutter].map((server) => server.stop()));
  }
}
