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
  createHashRing,
  isMemcachedKey,
  parseServerAddress,
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
    /** The store owning `key`, or undefined while its server is down (or the transport closed). */
    const route = (key: string): MemoryStore | undefined => {
      // Refused as memcached (and the memjs transport) refuse it, so tests catch what production would.
      assertMemcachedKey(key);
      const id = ids[ids.length === 1 ? 0 : ring.serverFor(key)] as string;
      return closed || downServers.has(id) ? undefined : storeOf(id);
    };
    const reachable = () => (closed ? [] : ids.filter((id) => !downServers.has(id)));

    return {
      specificationVersion: TRANSPORT_SPECIFICATION_VERSION,
      name: 'memory',
      capabilities: {
        cas: true,
        multiGet: true,
        maxItemSize: resolved.maxItemSize,
      },
      async get(key: string): Promise<TransportItem | undefined> {
        return route(key)?.get(key);
      },
      async getMulti(keys: readonly string[]): Promise<Map<string, TransportItem>> {
        const found = new Map<string, TransportItem>();
        for (const key of keys) {
          // Like the memjs transport: a key memcached could never hold is simply absent from the batch.
          if (!isMemcachedKey(key)) continue;
          const item = route(key)?.get(key);
          if (item !== undefined) found.set(key, item);
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
        return route(key)?.set(key, value, flags, exptime) ?? 'unavailable';
      },
      async add(
        key: string,
        value: Uint8Array,
        { flags = 0, exptime = 0 }: StoreOptions = {},
      ): Promise<StoreStatus> {
        assertFlags(flags);
        assertExptime(exptime);
        return route(key)?.add(key, value, flags, exptime) ?? 'unavailable';
      },
      async append(key: string, value: Uint8Array): Promise<StoreStatus> {
        return route(key)?.append(key, value) ?? 'unavailable';
      },
      async cas(
        key: string,
        value: Uint8Array,
        cas: bigint,
        { flags = 0, exptime = 0 }: StoreOptions = {},
      ): Promise<StoreStatus> {
        assertFlags(flags);
        assertExptime(exptime);
        return route(key)?.cas(key, value, cas, flags, exptime) ?? 'unavailable';
      },
      async delete(key: string): Promise<boolean> {
        return route(key)?.delete(key) ?? false;
      },
      async incr(key: string, delta: number | bigint): Promise<bigint | undefined> {
        const amount = toDelta(delta);
        return route(key)?.incr(key, amount);
      },
      async touch(key: string, exptime: number): Promise<boolean> {
        assertExptime(exptime);
        return route(key)?.touch(key, exptime) ?? false;
      },
      async flush(): Promise<void> {
        for (const id of reachable()) storeOf(id).flush();
      },
      async stats(): Promise<ServerStats[]> {
        return ids.flatMap((id, index) =>
          reachable().includes(id)
            ? [{ server: id, weight: weights[index] as number, stats: storeOf(id).stats() }]
            : [],
        );
      },
      reachable(key: string): boolean {
        return route(key) !== undefined;
      },
      async close(): Promise<void> {
        closed = true;
      },
    };
  };

  return Object.assign(factory, {
    store: (address: string) => storeOf(serverId(address)),
    down: (address: string) => void downServers.add(serverId(address)),
    up: (address: string) => void downServers.delete(serverId(address)),
    restart: (address: string) => {
      stores.delete(serverId(address));
      downServers.delete(serverId(address));
    },
    isDown: (address: string) => downServers.has(serverId(address)),
  });
}
