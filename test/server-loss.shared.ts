/**
 * Losing a server (issue 26), over a network transport and real memcached: three servers behind relays that
 * can refuse connections, swallow everything (a blackhole) or stand in front of a memcached that is SIGKILLed
 * and restarted on its port, and one gutter server. What each test measures:
 * - factory calls for the lost server's keys while it is away, `getOrSet` in rounds over every key: at most
 *   1.5× its keys with a gutter (one computation per key, then gutter hits);
 * - after it is back (the relay restored on the same port), no value older than what was written or
 *   invalidated while it was away — keys set, keys invalidated, and entries elsewhere whose dependency token
 *   lived on it — read by the client that saw the outage and by a client made afterwards;
 * - what memcached itself says is left of the gutter's items (`mg <key> t`): at most `maxLifetime`, whatever the
 *   write asked for (0 = never, an hour, an absolute time, a lease);
 * - past `maxQueuedDeletes` the returning server is flushed (a key nobody touched is gone too);
 * - the history checker with a server cut and restored mid-run: no stale read.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import {
  createHashRing,
  MemcachedClient,
  type Transport,
  type TransportFactory,
} from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import type { GutterOptions, TransportEvent } from '@lovely-memcached/transport-kit';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy';
import { runHistory } from './support/history/run-history';
import type { NetworkTransport } from './support/history/transports';
import { recording } from './support/recording-transport';
import { trackUnhandledRejections } from './support/unhandled-rejections';

export interface LossOptions {
  timeout?: number;
  probeInterval?: number;
  gutter?: GutterOptions;
  maxQueuedDeletes?: number;
  onEvent?: (event: TransportEvent) => void;
}

export interface LossSetup {
  /** The transport under test, made with these options. */
  transport: (options: LossOptions) => TransportFactory;
  /** The same transport in the history checker's worker processes. */
  history: NetworkTransport;
}

const TIMEOUT = 300;
const PROBE_INTERVAL = 100;
const MAX_LIFETIME = 10;
/** The relay that is cut: the second of three. */
const VICTIM = 1;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Fault = 'refuse' | 'blackhole' | 'kill';

interface Cluster {
  primaries: RunningMemcached[];
  relays: FaultProxy[];
  gutter: RunningMemcached;
  /** The relays' addresses: what clients are given. */
  servers: string[];
}

/** Where the core puts keys and dependency tokens, learnt from what it asks a recorded memory transport. */
class Placement {
  private readonly recorded = recording(memoryTransport());
  private readonly client = new MemcachedClient({
    transport: this.recorded.factory,
    servers: ['127.0.0.1:1'],
  });
  private readonly ring: ReturnType<typeof createHashRing>;

  constructor(servers: readonly string[]) {
    this.ring = createHashRing(servers);
  }

  async memcachedKey(key: string): Promise<string> {
    this.recorded.calls.length = 0;
    await this.client.query(key);
    const read = this.recorded.calls.find((call) => call.method === 'get' || call.method === 'getMulti');
    if (read?.keys[0] === undefined) throw new Error(`no read recorded for ${key}`);
    return read.keys[0];
  }

  async server(key: string): Promise<number> {
    return this.ring.serverFor(await this.memcachedKey(key));
  }

  /** A dependency whose token lives on server `index`. */
  async dependencyOn(index: number, prefix: string): Promise<string> {
    for (let i = 0; ; i++) {
      const dependency = `${prefix}-dependency-${i}`;
      this.recorded.calls.length = 0;
      await this.client.invalidate(undefined, { dependencies: [dependency] });
      const deleted = this.recorded.calls.find((call) => call.method.startsWith('delete'));
      const tokenKey = deleted?.keys[0];
      if (tokenKey !== undefined && this.ring.serverFor(tokenKey) === index) return dependency;
    }
  }
}

/** What memcached says is left of each item's life, in seconds (`mg <key> t`: -1 = never, undefined = absent). */
export async function remainingTtls(
  port: number,
  keys: readonly string[],
): Promise<Array<number | undefined>> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffered = '';
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    let end = buffered.indexOf('\r\n');
    while (end >= 0) {
      lines.push(buffered.slice(0, end));
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\r\n');
    }
    wake?.();
  });
  const ttls: Array<number | undefined> = [];
  for (const key of keys) {
    socket.write(`mg ${key} t\r\n`);
    while (lines.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    const line = lines.shift() as string;
    const match = /^HD.* t(-?\d+)/.exec(line);
    ttls.push(match === null ? undefined : Number(match[1]));
  }
  socket.destroy();
  return ttls;
}

async function waitFor(check: () => boolean, within: number, what: string): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > within) throw new Error(`${what}: not within ${within} ms`);
    await sleep(5);
  }
}

export function describeServerLoss(name: string, setup: LossSetup): void {
  describe(`losing a server, ${name}`, () => {
    let cluster: Cluster;
    const clients: MemcachedClient[] = [];
    const transports: Transport[] = [];
    const unhandled = trackUnhandledRejections();

    beforeAll(async () => {
      const primaries = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
      const relays = await Promise.all(primaries.map((primary) => startFaultProxy(primary.port)));
      cluster = {
        primaries,
        relays,
        gutter: await startMemcached(),
        servers: relays.map((relay) => relay.address),
      };
    });
    afterEach(async () => {
      await Promise.all([...clients.splice(0), ...transports.splice(0)].map((closing) => closing.close()));
      await Promise.all(cluster.relays.map((relay) => relay.restore()));
      expect(unhandled.reasons).toEqual([]);
    });
    afterAll(async () => {
      await Promise.all(cluster.relays.map((relay) => relay.close()));
      await Promise.all([...cluster.primaries, cluster.gutter].map((server) => server.stop()));
    });

    const gutter = (): GutterOptions => ({ servers: cluster.gutter.servers, maxLifetime: MAX_LIFETIME });
    const victim = () => cluster.relays[VICTIM] as FaultProxy;
    const client = (options: LossOptions) => {
      const made = new MemcachedClient({
        transport: setup.transport({ timeout: TIMEOUT, probeInterval: PROBE_INTERVAL, ...options }),
        servers: cluster.servers,
      });
      clients.push(made);
      return made;
    };

    async function startFault(fault: Fault): Promise<void> {
      if (fault === 'refuse') await victim().refuse();
      else if (fault === 'blackhole') victim().mode = 'blackhole';
      else await (cluster.primaries[VICTIM] as RunningMemcached).stop(); // SIGKILL
    }

    async function endFault(fault: Fault): Promise<void> {
      if (fault === 'kill') {
        const port = (cluster.primaries[VICTIM] as RunningMemcached).port;
        cluster.primaries[VICTIM] = await startMemcached({ port });
      }
      await victim().restore();
    }

    it.each([
      ['connections dropped, port refusing', 'refuse'],
      ['a blackhole', 'blackhole'],
      ['SIGKILL and a restart on its port', 'kill'],
    ] as const)(
      '%s: the gutter absorbs its keys, and nothing older than the outage is read after it',
      async (_, fault) => {
        const placement = new Placement(cluster.servers);
        const prefix = `loss-${randomUUID().slice(0, 8)}`;
        const keys = Array.from({ length: 150 }, (_, i) => `${prefix}-${i}`);
        const where = new Map<string, number>();
        for (const key of keys) where.set(key, await placement.server(key));
        const lost = keys.filter((key) => where.get(key) === VICTIM);
        // Entries on the other servers that depend on a token kept on the lost one.
        const dependency = await placement.dependencyOn(VICTIM, prefix);
        const dependents = new Set(keys.filter((key) => where.get(key) !== VICTIM).slice(0, 12));

        const database = new Map(keys.map((key) => [key, 0]));
        const oldest = new Map(keys.map((key) => [key, 0]));
        const calls = new Map<string, number>();
        const events: Array<TransportEvent & { at: number }> = [];
        const cache = client({
          gutter: gutter(),
          onEvent: (event) => events.push({ ...event, at: performance.now() }),
        });
        // A second client, as another process would be: a lease taken in the gutter holds it back too.
        const other = client({ gutter: gutter() });
        const read = (key: string, reader = cache) =>
          reader.getOrSet(
            key,
            async () => {
              calls.set(key, (calls.get(key) ?? 0) + 1);
              await sleep(20);
              return { v: database.get(key) as number };
            },
            { lifetime: 60, ...(dependents.has(key) && { dependencies: [dependency] }) },
          );
        let old = 0;
        const round = async () => {
          const [values] = await Promise.all([
            Promise.all(keys.map((key) => read(key))),
            Promise.all(keys.map((key) => read(key, other))),
          ]);
          values.forEach((value, i) => {
            if (value.v < (oldest.get(keys[i] as string) as number)) old++;
          });
        };
        const lostCalls = () => lost.reduce((sum, key) => sum + (calls.get(key) ?? 0), 0);

        await round();
        expect(lostCalls()).toBe(lost.length);
        const before = lostCalls();
        await startFault(fault);
        for (let i = 0; i < 5; i++) await round();
        const during = lostCalls() - before;
        const address = victim().address;
        expect(events.map((event) => event.type)).toContain('gutter');
        expect(events.find((event) => event.type === 'gutter')).toMatchObject({ server: address });
        // Memcached's own word on what is left of the gutter's copies.
        const placed = await Promise.all(lost.map((key) => placement.memcachedKey(key)));
        const ttls = await remainingTtls(cluster.gutter.port, placed);
        const held = ttls.filter((ttl): ttl is number => ttl !== undefined);
        console.log(
          `${name}, ${fault}: ${lost.length} keys on the lost server, ${during} factory calls for them in 5 rounds during the outage (${(during / lost.length).toFixed(2)}× its keys); ${held.length} in the gutter, TTLs ${Math.min(...held)}–${Math.max(...held)} s`,
        );
        expect(during).toBeLessThanOrEqual(1.5 * lost.length);
        expect(held.length).toBeGreaterThan(lost.length * 0.9);
        expect(held.every((ttl) => ttl > 0 && ttl <= MAX_LIFETIME)).toBe(true);

        // While it is away: keys rewritten, keys invalidated, a dependency invalidated whose token it holds.
        // At once: an invalidation also tries the lost server, riding on its probe (a blackhole holds that for
        // the deadline).
        const updates: Promise<unknown>[] = [];
        for (const [i, key] of lost.entries()) {
          if (i % 3 === 2) continue;
          const version = (database.get(key) as number) + 1;
          database.set(key, version);
          oldest.set(key, version);
          updates.push(
            i % 3 === 0 ? cache.invalidate(key) : cache.set(key, { v: version }, { lifetime: 60 }),
          );
        }
        for (const key of dependents) {
          const version = (database.get(key) as number) + 1;
          database.set(key, version);
          oldest.set(key, version);
        }
        updates.push(cache.invalidate(undefined, { dependencies: [dependency] }));
        await Promise.all(updates);
        await round();
        expect(old).toBe(0);

        const restoring = performance.now();
        await endFault(fault);
        await waitFor(
          () => events.some((event) => event.type === 'server-up' && event.server === address),
          3000,
          'the lost server back in use',
        );
        const up = events.find((event) => event.type === 'server-up' && event.server === address);
        const replayed = events.find((event) => event.type === 'replayed' && event.server === address);
        console.log(
          `${name}, ${fault}: back in use ${Math.round((up?.at ?? 0) - restoring)} ms after the relay was restored; ${replayed?.type === 'replayed' ? `${replayed.deletes} missed deletes applied in ${replayed.ms} ms` : 'nothing replayed'}`,
        );

        // Read by the client that saw the outage, and by one made now that never did.
        const fresh = client({});
        let found = 0;
        for (const reader of [cache, fresh]) {
          for (const key of keys) {
            const value = await reader.query<{ v: number }>(key);
            if (value === undefined) continue;
            found++;
            if (value.v < (oldest.get(key) as number)) old++;
          }
        }
        await round();
        expect(found).toBeGreaterThan(keys.length - lost.length);
        expect(old).toBe(0);
        expect(replayed).toBeDefined();
      },
    );

    it('bad input is refused with ERR_INVALID_OPTION: a gutter server that is also a server, an empty gutter, maxLifetime <= 0', () => {
      const refused = expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('gutter'),
      });
      expect(() => setup.transport({ gutter: { servers: [] } })).toThrow(refused);
      expect(() => setup.transport({ gutter: { servers: cluster.gutter.servers, maxLifetime: 0 } })).toThrow(
        refused,
      );
      expect(() =>
        setup.transport({ gutter: { servers: cluster.gutter.servers, maxLifetime: -10 } }),
      ).toThrow(refused);
      // Whose servers are known when the transport is made for them (a client's constructor).
      const sharing = setup.transport({ gutter: { servers: [cluster.servers[0] as string] } });
      expect(() => new MemcachedClient({ transport: sharing, servers: cluster.servers })).toThrow(refused);
    });

    it('what the gutter stores lives at most maxLifetime, as memcached itself says (mg <key> t)', async () => {
      const transport = setup.transport({
        timeout: TIMEOUT,
        probeInterval: PROBE_INTERVAL,
        gutter: gutter(),
      })(cluster.servers);
      transports.push(transport);
      const ring = createHashRing(cluster.servers);
      const prefix = `ttl-${randomUUID().slice(0, 8)}`;
      const lost: string[] = [];
      for (let i = 0; lost.length < 7; i++) {
        if (ring.serverFor(`${prefix}-${i}`) === VICTIM) lost.push(`${prefix}-${i}`);
      }
      await victim().refuse();
      await transport.get(lost[0] as string); // refused: down, its keys go to the gutter
      expect(transport.reachable?.(lost[0] as string)).toBe(false);
      const value = Buffer.from('v');
      const now = Math.floor(Date.now() / 1000);
      const [never, hour, absolute, added, touched, leased, placeholder] = lost as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      expect(await transport.set(never, value, { exptime: 0 })).toBe('stored');
      expect(await transport.set(hour, value, { exptime: 3600 })).toBe('stored');
      expect(await transport.set(absolute, value, { exptime: now + 40 * 86_400 })).toBe('stored');
      expect(await transport.add(added, value)).toBe('stored');
      expect(await transport.set(touched, value, { exptime: 2 })).toBe('stored');
      expect(await transport.touch(touched, 0)).toBe(true);
      const checked = [never, hour, absolute, added, touched];
      if (transport.leases?.readWithLease !== undefined) {
        // meta: a read that takes the lease leaves a placeholder for the lease's lifetime (a minute here).
        await transport.leases.readWithLease(placeholder, 60_000, 0);
        checked.push(placeholder);
      } else {
        expect(await transport.add(leased, Buffer.alloc(0), { exptime: 60 })).toBe('stored');
        checked.push(leased);
      }
      const ttls = await remainingTtls(cluster.gutter.port, checked);
      console.log(`${name}: TTLs in the gutter ${JSON.stringify(ttls)} (maxLifetime ${MAX_LIFETIME})`);
      for (const ttl of ttls) {
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(MAX_LIFETIME);
      }
    });

    it('past maxQueuedDeletes, the returning server is flushed before it is used again', async () => {
      const placement = new Placement(cluster.servers);
      const prefix = `flush-${randomUUID().slice(0, 8)}`;
      const lost: string[] = [];
      for (let i = 0; lost.length < 25; i++) {
        if ((await placement.server(`${prefix}-${i}`)) === VICTIM) lost.push(`${prefix}-${i}`);
      }
      const events: TransportEvent[] = [];
      const cache = client({ maxQueuedDeletes: 10, onEvent: (event) => events.push(event) });
      for (const key of lost) await cache.set(key, { v: 0 });
      await victim().refuse();
      // Twenty keys rewritten while it is away (no gutter: the writes store nothing), five left alone.
      for (const key of lost.slice(0, 20)) await cache.set(key, { v: 1 });
      await victim().restore();
      await waitFor(
        () => events.some((event) => event.type === 'server-up'),
        3000,
        'the lost server back in use',
      );
      expect(events.filter((event) => event.type !== 'server-down')).toEqual([
        { type: 'flushed', server: victim().address, reason: 'overflow' },
        { type: 'server-up', server: victim().address },
      ]);
      // Flushed: neither the rewritten keys' old values nor the untouched ones are there.
      for (const key of lost) expect(await cache.query(key)).toBeUndefined();
    });

    it('the history checker with a server cut and restored mid-run: no stale read', async () => {
      const run = await runHistory({
        transport: setup.history,
        servers: cluster.servers,
        durationMs: 3500,
        processes: 2,
        clientsPerProcess: 2,
        transportOptions: {
          gutter: gutter(),
          probeInterval: PROBE_INTERVAL,
        },
        outage: {
          atMs: 1000,
          forMs: 600,
          cut: () => victim().refuse(),
          restore: () => victim().restore(),
        },
      });
      console.log(run.summary);
      const { result } = run;
      expect(result.reads).toBeGreaterThan(300);
      expect(result.invalidations).toBeGreaterThan(30);
      const report = result.stale.length + result.damaged.length > 0 ? run.report() : run.summary;
      expect(result.damaged.length, report).toBe(0);
      expect(result.stale.length, report).toBe(0);
    }, 60_000);
  });
}
