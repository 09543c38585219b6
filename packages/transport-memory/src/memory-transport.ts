/**
 * `memoryTransport()`: memcached in memory, for unit tests and for users' tests.
 *
 * Clients built with the same factory share one store per server address, as clients of the same memcached
 * servers do; every `memoryTransport()` call is a new, empty set of servers. Keys are spread over several servers
 * with the same ketama ring as real memcached clients, and tests can take a server down (its keys then miss, its
 * writes are not stored) and bring it back, with its data (`up`) or empty like a restarted process (`restart`).
 */
import {
  assertExptime,
  assertFlags,
  assertMemcachedKey,
  CacheError,
  commandChannel,
  createHashRing,
  describeValue,
  isMemcachedKey,
  parseServerAddress,
  publishServerEvent,
  type ServerStats,
  type StoreOptions,
  type StoreStatus,
  TRANSPORT_SPECIFICATION_VERSION,
  type Transport,
  type TransportFactory,
  type TransportItem,
  toDelta,
} from '@lovely-memcached/core';
import { MemoryStore } from './memory-store';
import { type MemoryTransportOptions, resolveMemoryOptions } from './options';

/**
 * memcached's CAS unique is an unsigned 64-bit number: a bad one is refused as the memjs transport refuses it
 * (here it would otherwise just never match). Kept in step with the memjs transport's copy; its home is core's
 * transport-arguments.ts, beside `toDelta`.
 */
function assertCasUnique(cas: unknown): void {
  if (typeof cas !== 'bigint' || cas < 0n || cas >= 2n ** 64n) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `\`cas\` must be a CAS value as read (a bigint from 0 to 2^64 - 1), got ${describeValue(cas)}`,
      { context: { cas } },
    );
  }
}

export interface MemoryTransportFactory extends TransportFactory {
  /** The store of a server address (created on first use), for inspection in tests. */
  store(address: string): MemoryStore;
  /** Takes a server down: calls for its keys resolve at once as misses / not stored. Its data is kept. */
  down(address: string): void;
  /** Brings a server back with the data it had. */
  up(address: string): void;
  /** Brings a server back empty, like a restarted memcached process. */
  restart(address: string): void;
  isDown(address: string): boolean;
}

/** Server addresses are compared as `host:port`, whatever weight or default port they were written with. */
function serverId(address: string): string {
  const { host, port } = parseServerAddress(address);
  return `${host}:${port}`;
}

export function memoryTransport(options: MemoryTransportOptions = {}): MemoryTransportFactory {
  const resolved = resolveMemoryOptions(options);
  const stores = new Map<string, MemoryStore>();
  const downServers = new Set<string>();

  const storeOf = (id: string): MemoryStore => {
    let store = stores.get(id);
    if (store === undefined) {
      store = new MemoryStore(resolved);
      stores.set(id, store);
    }
    return store;
  };

  const factory = (servers: readonly string[]): Transport => {
    const ids = servers.map(serverId);
    const weights = servers.map((address) => parseServerAddress(address).weight);
    const ring = createHashRing(servers);
    let closed = false;
    const serverOf = (key: string): string => ids[ids.length === 1 ? 0 : ring.serverFor(key)] as string;
    const answers = (id: string): boolean => !closed && !downServers.has(id);
    /** The store owning `key`, or undefined while its server is down (or the transport closed). */
    const route = (key: string): MemoryStore | undefined => {
      // Refused as memcached (and the memjs transport) refuse it, so tests catch what production would.
      assertMemcachedKey(key);
      const id = serverOf(key);
      return answers(id) ? storeOf(id) : undefined;
    };
    const answering = () => ids.filter(answers);
    /** One request to `key`'s server, on the `lovely-memcached:command` channel when someone listens. */
    const request = <T>(command: string, key: string, run: (store: MemoryStore | undefined) => T): T => {
      const store = route(key);
      if (!commandChannel.hasSubscribers) return run(store);
      return commandChannel.traceSync(() => run(store), { command, server: serverOf(key), keys: 1 });
    };

    return {
      specificationVersion: TRANSPORT_SPECIFICATION_VERSION,
      name: 'memory',
      capabilities: {
        maxItemSize: resolved.maxItemSize,
      },
      async get(key: string): Promise<TransportItem | undefined> {
        return request('get', key, (store) => store?.get(key));
      },
      async getMulti(keys: readonly string[]): Promise<Map<string, TransportItem>> {
        const found = new Map<string, TransportItem>();
        const perServer = new Map<string, number>();
        for (const key of keys) {
          // Like the memjs transport: a key memcached could never hold is simply absent from the batch.
          if (!isMemcachedKey(key)) continue;
          const item = route(key)?.get(key);
          if (item !== undefined) found.set(key, item);
          if (commandChannel.hasSubscribers)
            perServer.set(serverOf(key), (perServer.get(serverOf(key)) ?? 0) + 1);
        }
        for (const [server, count] of perServer) {
          commandChannel.traceSync(() => undefined, { command: 'getMulti', server, keys: count });
        }
        return found;
      },
      async set(
        key: string,
        value: Uint8Array,
        { flags = 0, exptime = 0 }: StoreOptions = {},
      ): Promise<StoreStatus> {
        assertFlags(flags);
        assertExptime(exptime);
        return request('set', key, (store) => store?.set(key, value, flags, exptime) ?? 'unavailable');
      },
      async add(
        key: string,
        value: Uint8Array,
        { flags = 0, exptime = 0 }: StoreOptions = {},
      ): Promise<StoreStatus> {
        assertFlags(flags);
        assertExptime(exptime);
        return request('add', key, (store) => store?.add(key, value, flags, exptime) ?? 'unavailable');
      },
      async append(key: string, value: Uint8Array): Promise<StoreStatus> {
        return request('append', key, (store) => store?.append(key, value) ?? 'unavailable');
      },
      async cas(
        key: string,
        value: Uint8Array,
        cas: bigint,
        { flags = 0, exptime = 0 }: StoreOptions = {},
      ): Promise<StoreStatus> {
        assertFlags(flags);
        assertExptime(exptime);
        assertCasUnique(cas);
        return request('cas', key, (store) => store?.cas(key, value, cas, flags, exptime) ?? 'unavailable');
      },
      async delete(key: string): Promise<boolean> {
        return request('delete', key, (store) => store?.delete(key) ?? false);
      },
      async deleteMany(keys: readonly string[]): Promise<void> {
        for (const key of keys) if (isMemcachedKey(key)) route(key)?.delete(key);
      },
      async incr(key: string, delta: number | bigint): Promise<bigint | undefined> {
        const amount = toDelta(delta);
        return request('incr', key, (store) => store?.incr(key, amount));
      },
      async touch(key: string, exptime: number): Promise<boolean> {
        assertExptime(exptime);
        return request('touch', key, (store) => store?.touch(key, exptime) ?? false);
      },
      async flush(): Promise<void> {
        for (const id of answering()) {
          if (commandChannel.hasSubscribers)
            commandChannel.traceSync(() => storeOf(id).flush(), { command: 'flush', server: id, keys: 0 });
          else storeOf(id).flush();
        }
      },
      async stats(): Promise<ServerStats[]> {
        const statsOf = (id: string) =>
          commandChannel.hasSubscribers
            ? commandChannel.traceSync(() => storeOf(id).stats(), { command: 'stats', server: id, keys: 0 })
            : storeOf(id).stats();
        return ids.flatMap((id, index) =>
          answers(id) ? [{ server: id, weight: weights[index] as number, stats: statsOf(id) }] : [],
        );
      },
      // A question about where a key lives, not a request: answered for any key, never refused.
      reachable(key: string): boolean {
        return answers(serverOf(key));
      },
      async close(): Promise<void> {
        closed = true;
      },
    };
  };

  return Object.assign(factory, {
    store: (address: string) => storeOf(serverId(address)),
    down: (address: string) => {
      downServers.add(serverId(address));
      publishServerEvent({
        type: 'server-down',
        server: serverId(address),
        reason: 'down',
        transport: 'memory',
      });
    },
    up: (address: string) => {
      downServers.delete(serverId(address));
      publishServerEvent({ type: 'server-up', server: serverId(address), transport: 'memory' });
    },
    restart: (address: string) => {
      stores.delete(serverId(address));
      downServers.delete(serverId(address));
      publishServerEvent({ type: 'server-up', server: serverId(address), transport: 'memory' });
    },
    isDown: (address: string) => downServers.has(serverId(address)),
  });
}
