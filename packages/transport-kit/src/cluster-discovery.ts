/**
 * Cluster auto-discovery, as ElastiCache offers it (and `memcache-plus` / `memcache` use it): a configuration
 * endpoint answers `config get cluster` (`get AmazonElastiCache:cluster` on engines before 1.4.14) with a
 * version line and the nodes as `host|ip|port` entries. A transport that discovers polls it, and when the
 * version changes rebuilds itself for the new nodes (ketama over them); while a poll fails it keeps serving on
 * the nodes it has.
 *
 * Transport-agnostic: it wraps any transport factory, so the memjs and the meta transport discover alike.
 */
import type { ConnectionOptions } from 'node:tls';
import {
  CacheError,
  checkOptionNames,
  checkString,
  type Duration,
  type LeaseOutcome,
  type Leases,
  parseServerAddress,
  type ServerStats,
  TRANSPORT_SPECIFICATION_VERSION,
  type Transport,
  type TransportItem,
} from '@lovely-memcached/core';
import { checkMilliseconds } from './milliseconds';
import { openSocket } from './socket';

export interface AutoDiscoverOptions {
  /** The configuration endpoint, `host:port`. @default the first server the client was given */
  endpoint?: string;
  /** How often the configuration is polled: milliseconds, or a string with a unit (`'1m'`). @default 60000 */
  interval?: Duration;
}

const AUTO_DISCOVER_OPTION_NAMES = {
  endpoint: true,
  interval: true,
} as const satisfies Record<keyof AutoDiscoverOptions, true>;

export interface ClusterConfig {
  version: number;
  /** `host:port` of every node (the IP when the reply has one, else the host name). */
  nodes: string[];
}

export type DiscoveryEvent =
  | { type: 'cluster-changed'; version: number; nodes: string[] }
  | { type: 'discovery-failed'; endpoint: string; reason: string };

const MAX_REPLY = 64 * 1024;

/** Parses the body of a cluster configuration: `<version>\n<host|ip|port> ...`. */
export function parseClusterConfig(body: string): ClusterConfig | undefined {
  const [versionLine, nodesLine] = body.trim().split(/\r?\n/);
  const version = Number(versionLine);
  if (!Number.isSafeInteger(version) || nodesLine === undefined) return undefined;
  const nodes: string[] = [];
  for (const entry of nodesLine.trim().split(/\s+/)) {
    const [host, ip, port] = entry.split('|');
    if (host === undefined || port === undefined || !/^\d+$/.test(port)) return undefined;
    nodes.push(`${ip !== undefined && ip !== '' ? ip : host}:${port}`);
  }
  return nodes.length === 0 ? undefined : { version, nodes };
}

/** One request to the configuration endpoint: the classic command first, the pre-1.4.14 key after an ERROR. */
export async function fetchClusterConfig(
  endpoint: string,
  timeout: number,
  tls: ConnectionOptions | undefined,
): Promise<ClusterConfig> {
  const reply = await ask(endpoint, 'config get cluster\r\n', timeout, tls);
  const body =
    dataBlock(reply) ?? dataBlock(await ask(endpoint, 'get AmazonElastiCache:cluster\r\n', timeout, tls));
  const config = body === undefined ? undefined : parseClusterConfig(body);
  if (config === undefined) throw new Error(`no cluster configuration at ${endpoint}`);
  return config;
}

/** The data block of a `CONFIG …` or `VALUE …` reply, or undefined (ERROR, END alone, anything else). */
function dataBlock(reply: string): string | undefined {
  const match = /^(?:CONFIG|VALUE) \S+ \d+ (\d+)\r\n/.exec(reply);
  if (match === null) return undefined;
  const start = match[0].length;
  return reply.slice(start, start + Number(match[1]));
}

function ask(
  endpoint: string,
  command: string,
  timeout: number,
  tls: ConnectionOptions | undefined,
): Promise<string> {
  const { host, port } = parseServerAddress(endpoint);
  return new Promise((resolve, reject) => {
    const { socket, readyEvent } = openSocket({ host: host.replace(/^\[|\]$/g, ''), port }, tls);
    let reply = '';
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve(reply);
      else reject(error);
    };
    const timer = setTimeout(
      () => done(new Error(`configuration endpoint ${endpoint} did not answer within ${timeout} ms`)),
      timeout,
    );
    socket.once(readyEvent, () => socket.write(command));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.length > MAX_REPLY) done(new Error('configuration reply too long'));
      else if (/(?:^|\r\n)(?:END|ERROR|CLIENT_ERROR[^\r]*|SERVER_ERROR[^\r]*)\r\n$/.test(reply)) done();
    });
    socket.on('error', (error) => done(error));
    socket.on('close', () => done(new Error(`configuration endpoint ${endpoint} closed the connection`)));
  });
}

/** The `autoDiscover` option, checked: `true` polls the first server every minute. */
export function checkAutoDiscover(
  value: unknown,
): { endpoint: string | undefined; interval: number } | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { endpoint: undefined, interval: 60_000 };
  if (typeof value !== 'object' || value === null) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      '`autoDiscover` must be true, false or { endpoint?, interval? }',
      {
        context: { option: 'autoDiscover', value },
      },
    );
  }
  checkOptionNames('the `autoDiscover` options', value, AUTO_DISCOVER_OPTION_NAMES);
  const { endpoint, interval } = value as AutoDiscoverOptions;
  return {
    endpoint: endpoint === undefined ? undefined : checkString('autoDiscover.endpoint', endpoint),
    interval: checkMilliseconds('autoDiscover.interval', interval ?? 60_000),
  };
}

/**
 * A transport for whatever nodes the configuration endpoint lists, rebuilt when its version changes. Calls go
 * to the transport of the current nodes; the previous one is closed once its in-flight calls had their deadline.
 */
export function discoveringTransport(
  makeTransport: (servers: readonly string[]) => Transport,
  servers: readonly string[],
  discovery: {
    endpoint: string | undefined;
    interval: number;
    timeout: number;
    tls: ConnectionOptions | undefined;
  },
  onEvent: (event: DiscoveryEvent) => void,
): Transport {
  const endpoint = discovery.endpoint ?? (servers[0] as string);
  let current = makeTransport(servers);
  let version: number | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const poll = async () => {
    timer = undefined;
    try {
      const config = await fetchClusterConfig(endpoint, discovery.timeout, discovery.tls);
      if (!closed && config.version !== version) {
        version = config.version;
        const previous = current;
        current = makeTransport(config.nodes);
        // Calls already sent on the previous nodes settle within their deadline; then it goes.
        setTimeout(() => previous.close().catch(() => {}), discovery.timeout).unref();
        onEvent({
          type: 'cluster-changed',
          version: config.version,
          nodes: config.nodes,
        });
      }
    } catch (error) {
      // Keep serving on the nodes we have: a configuration endpoint that is down is no reason to stop.
      onEvent({
        type: 'discovery-failed',
        endpoint,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
    if (!closed) {
      timer = setTimeout(() => void poll(), discovery.interval);
      timer.unref();
    }
  };
  void poll();
  const leases = currentLeases(current, () => current);

  const transport: Transport = {
    specificationVersion: TRANSPORT_SPECIFICATION_VERSION,
    get name() {
      return current.name;
    },
    get capabilities() {
      return current.capabilities;
    },
    leases,
    get: (key) => current.get(key),
    getMulti: async (keys) => {
      const transport = current;
      if (transport.getMulti !== undefined) return transport.getMulti(keys);
      const found = new Map<string, TransportItem>();
      for (const key of keys) {
        const item = await transport.get(key);
        if (item !== undefined) found.set(key, item);
      }
      return found;
    },
    set: (key, value, options) => current.set(key, value, options),
    add: (key, value, options) => current.add(key, value, options),
    append: (key, value) => current.append(key, value),
    cas: (key, value, cas, options) =>
      current.cas?.(key, value, cas, options) ?? Promise.resolve('unavailable' as const),
    delete: (key, options) => current.delete(key, options),
    deleteMany: async (keys) => {
      const transport = current;
      if (transport.deleteMany !== undefined) return transport.deleteMany(keys);
      await Promise.all(keys.map((key) => transport.delete(key, { urgent: true })));
    },
    incr: (key, delta) => current.incr(key, delta),
    touch: (key, exptime) => current.touch(key, exptime),
    flush: () => current.flush(),
    stats: (): Promise<ServerStats[]> => current.stats(),
    reachable: (key) => current.reachable?.(key) ?? true,
    servable: (key) => current.servable?.(key) ?? current.reachable?.(key) ?? true,
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await current.close();
    },
  };
  return transport;
}

/**
 * The discovering transport's `leases`: one object for its whole life (a client takes `transport.leases` once,
 * when it connects), whose calls go to the leases of the transport current at the time of the call. Those of a
 * replaced transport would go to the old nodes, and once it is closed answer every read as a miss: the factory
 * would run on every call. Every transport is made by the same factory with the same options, so the first one
 * tells whether there are server-side leases (`undefined` otherwise: the core takes leases with `add`). Should
 * a later one have none after all, a lease is `unavailable` (compute without one) and a leased read a plain read.
 */
function currentLeases(first: Transport, current: () => Transport): Leases | undefined {
  if (first.leases === undefined) return undefined;
  const unavailable: LeaseOutcome = { status: 'unavailable' };
  const leases: Leases = {
    acquire: (memcachedKey, ttlMs) =>
      current().leases?.acquire(memcachedKey, ttlMs) ?? Promise.resolve(unavailable),
  };
  if (first.leases.readWithLease === undefined) return leases;
  leases.readWithLease = async (memcachedKey, ttlMs, staleSeconds) => {
    const transport = current();
    if (transport.leases?.readWithLease !== undefined)
      return transport.leases.readWithLease(memcachedKey, ttlMs, staleSeconds);
    return { item: await transport.get(memcachedKey) };
  };
  return leases;
}

/**
 * A transport factory that discovers its nodes when `autoDiscover` is set (the factory as it is otherwise).
 * Every network transport wraps its factory with this.
 */
export function withAutoDiscovery(
  make: (servers: readonly string[]) => Transport,
  options: {
    autoDiscover: { endpoint: string | undefined; interval: number } | undefined;
    timeout: number;
    onEvent: (event: DiscoveryEvent) => void;
  },
  tls?: ConnectionOptions,
): (servers: readonly string[]) => Transport {
  const { autoDiscover } = options;
  if (autoDiscover === undefined) return make;
  return (servers) =>
    discoveringTransport(make, servers, { ...autoDiscover, timeout: options.timeout, tls }, options.onEvent);
}
