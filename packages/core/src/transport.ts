/**
 * The one seam between the core and a store.
 *
 * A transport speaks memcached: string keys (already validated and hashed by the core), byte values, a 32-bit
 * `flags` word and memcached expiry times. The core never imports a client library; `memjsTransport()` and
 * `memoryTransport()` each implement this interface and pass the same contract suite
 * (`describeTransportContract` from `@lovely-memcached/testing/contract`).
 *
 * Rules every transport keeps:
 * - A server's fault never rejects: an unreachable or failing server reads as a miss (`undefined`), a write as
 *   `'unavailable'`, a delete as `false`. Only programming errors reject.
 * - Every call settles within the transport's own deadline.
 * - Keys route to servers the same way for every operation, so a key's records (entry, dependency token,
 *   tracking record) are always looked for where they were written.
 */

import { CacheError } from './errors';

export const TRANSPORT_SPECIFICATION_VERSION = 'v1' as const;

/** memcached's limit on key length, in bytes. */
export const MAX_KEY_LENGTH = 250;

/** memcached's default item size limit (`-I 1m`); the item header and key count against it. */
export const DEFAULT_MAX_ITEM_SIZE = 1024 * 1024;

/**
 * What memcached 1.6 (64-bit, CAS on) adds to key + value when it checks the item size limit: the item header,
 * the CAS value, the key's terminator and the value's CRLF. Measured: with `-I 1m`, key + value may be 1048517.
 */
export const MEMCACHED_ITEM_OVERHEAD = 59;

/** Relative expiry times above this many seconds are read by memcached as absolute Unix times. */
export const MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;

/** An item as read from the store. */
export interface TransportItem {
  value: Uint8Array;
  /** memcached's 32-bit flags word, as the writer stored it. */
  flags: number;
  /** memcached's CAS unique, present when the transport supports `cas`. */
  cas?: bigint;
}

/*
 * Server-side leases, as a transport offers them (`Transport.leases`; the core's own, taken with `add`, are in
 * lease.ts). Defined here, with the rest of the seam, so that this module imports nothing of the core's above it:
 * lease.ts builds on `Transport`, and a `Transport` that named lease.ts's types made the two modules import each
 * other (an import cycle, which scripts/check-cycles.mjs refuses); lease.ts re-exports them.
 */

/**
 * - `won`: this caller computes; `release()` once the value is stored (or the factory failed);
 * - `held`: someone else computes: wait for the value;
 * - `unavailable`: the lease's server cannot be reached: compute without one (never wait on a down server).
 */
export type LeaseOutcome =
  | {
      status: 'won';
      release(): Promise<void>;
      /**
       * The CAS of the item in the entry's own place when the lease was won there (a placeholder, or the entry
       * being refreshed): the read-through write is a CAS against it, so an invalidation in between wins.
       */
      cas?: bigint;
    }
  | { status: 'held' }
  | { status: 'unavailable' };

/** A read of an entry that, on the server's word, also says who computes it (see `Leases.readWithLease`). */
export interface LeasedRead {
  /** The entry's item; undefined when absent, when only a lease holds its place, or when marked stale. */
  item: TransportItem | undefined;
  /** `won` / `held` when the server handed out the entry's lease or said someone else has it. */
  lease?: LeaseOutcome;
  /**
   * The CAS of an item the read hid because another client marked it stale (`md … I`): it holds the entry's
   * place, and a read-through write after a lease taken beside it is conditional on it.
   */
  staleCas?: bigint;
}

export interface Leases {
  /** Tries to take the lease on `memcachedKey` for `ttlMs` milliseconds. */
  acquire(memcachedKey: string, ttlMs: number): Promise<LeaseOutcome>;
  /**
   * Optional, for servers that keep leases on the entry itself (memcached's meta `mg … N R`): reads the entry
   * and, in the same round trip, takes its lease for `ttlMs` when it is absent, or when less than
   * `staleSeconds` (> 0) of its life in memcached are left, which is when its grace has begun. A miss then
   * costs one round trip to learn who computes, not two.
   */
  readWithLease?(memcachedKey: string, ttlMs: number, staleSeconds: number): Promise<LeasedRead>;
}

export interface StoreOptions {
  /** 32-bit flags word. @default 0 */
  flags?: number;
  /**
   * memcached expiry time: 0 = never, 1..2592000 = seconds from now, larger = absolute Unix time in seconds,
   * negative = already expired. The core converts its lifetimes into this form.
   * @default 0
   */
  exptime?: number;
}

export interface DeleteOptions {
  /** Try the server even while it is considered down (its cool-down is skipped). @default false */
  urgent?: boolean;
}

/**
 * The outcome of a storage command, as memcached reports it:
 * - `stored`: done;
 * - `exists`: `add` found the key present, or `cas` found it changed since it was read;
 * - `not-found`: `cas` found no such key;
 * - `not-stored`: `append` found no such key;
 * - `too-large`: the item exceeds the server's item size limit (nothing was stored);
 * - `unavailable`: no server could be reached within the deadline (nothing is known to be stored).
 */
export type StoreStatus = 'stored' | 'exists' | 'not-found' | 'not-stored' | 'too-large' | 'unavailable';

/** One reachable server's statistics, as the server reports them. */
export interface ServerStats {
  /** `host:port` */
  server: string;
  /** The weight the server was configured with (1 unless set). */
  weight: number;
  stats: Record<string, string>;
}

/**
 * What the core needs to know of a transport beyond its methods. (Whether it has `cas`, `getMulti` or
 * `deleteMany` is told by the method being there: the core checks that, and falls back where one is missing.)
 */
export interface TransportCapabilities {
  /** The store's item size limit (memcached's `-I`): key + value + MEMCACHED_ITEM_OVERHEAD must fit. */
  maxItemSize: number;
}

export interface Transport {
  /** Which version of this interface the transport implements. */
  readonly specificationVersion: typeof TRANSPORT_SPECIFICATION_VERSION;
  /** A short name for logs, e.g. `memjs` or `memory`. */
  readonly name: string;
  readonly capabilities: TransportCapabilities;

  get(key: string): Promise<TransportItem | undefined>;
  /** Optional: the core falls back to `get` per key. Missing keys are absent from the map. */
  getMulti?(keys: readonly string[]): Promise<Map<string, TransportItem>>;
  set(key: string, value: Uint8Array, options?: StoreOptions): Promise<StoreStatus>;
  /** Stores only if the key is absent (`exists` otherwise): the atomic create the core builds on. */
  add(key: string, value: Uint8Array, options?: StoreOptions): Promise<StoreStatus>;
  /** Appends bytes to an existing item atomically, keeping its flags and expiry (`not-stored` if absent). */
  append(key: string, value: Uint8Array): Promise<StoreStatus>;
  /** Optional: stores only if the item is unchanged since it was read with this `cas`. */
  cas?(key: string, value: Uint8Array, cas: bigint, options?: StoreOptions): Promise<StoreStatus>;
  /**
   * `true` when an item was deleted. With `urgent`, a server the transport currently considers down is tried
   * anyway (within the deadline): invalidations use it, since a delete skipped on a server that is in fact back
   * would leave a stale entry readable by clients that see it up.
   */
  delete(key: string, options?: DeleteOptions): Promise<boolean>;
  /**
   * Optional: deletes many keys at once, urgently (see `delete`), with quiet deletes and one terminator per
   * server instead of one awaited reply per key; resolves when every server answered or failed. The core falls
   * back to `delete` per key.
   */
  deleteMany?(keys: readonly string[]): Promise<void>;
  /** Adds `delta` to a decimal counter item; `undefined` when absent, not a number, or unreachable. */
  incr(key: string, delta: number | bigint): Promise<bigint | undefined>;
  /** Sets a new expiry time; `true` when the item exists. */
  touch(key: string, exptime: number): Promise<boolean>;
  /** Empties every reachable server. */
  flush(): Promise<void>;
  /** Statistics of every reachable server; unreachable ones are left out. */
  stats(): Promise<ServerStats[]>;
  /** Closes connections; pending calls settle. */
  close(): Promise<void>;
  /**
   * Optional: read-through leases kept by the server itself (memcached's meta `mg … N`). Without them the core
   * takes leases with `add`.
   */
  readonly leases?: Leases;
  /**
   * Optional: false while the server that holds `key` is known to be unreachable (marked down); true otherwise.
   * Lets the core tell "absent" from "could not be read" (key tracking never prunes on the latter, read-through
   * never waits on it).
   */
  reachable?(key: string): boolean;
  /**
   * Optional: whether a request for `key` can be answered at all: its server, or while that is down a gutter
   * pool standing in for it. Read-through waits for another caller's value only where it can (a lease taken in
   * the gutter is waited for like any other); without it, `reachable` says.
   */
  servable?(key: string): boolean;
}

/** How a client gets a transport: `memjsTransport(options)` and `memoryTransport(options)` return one. */
export type TransportFactory = (servers: readonly string[]) => Transport;

/**
 * Splits `host:port[:weight]`; memcached's default port when none is given. Refuses what no server can be: a
 * port outside 1-65535 (Node would throw a RangeError on every call), a weight below 1, a host that is not a
 * name or an address (`127.0.0.1;11211` would otherwise be looked up as a host name, and fail on every call).
 */
export function parseServerAddress(address: string): { host: string; port: number; weight: number } {
  const match =
    typeof address === 'string' ? /^(\[[^\]]+\]|[^:]+)(?::(\d+))?(?::(\d+))?$/.exec(address.trim()) : null;
  if (!match || match[1] === undefined) {
    throw invalidAddress(address, 'use "host:port" (or "host:port:weight"; IPv6 as "[::1]:11211")');
  }
  const host = match[1];
  if (!host.startsWith('[') && !HOST.test(host)) {
    throw invalidAddress(
      address,
      `the host ${JSON.stringify(host)} is not a host name or IP address: use "host:port", several separated by commas`,
    );
  }
  const port = match[2] === undefined ? 11211 : Number(match[2]);
  if (port < 1 || port > 65535) throw invalidAddress(address, `the port ${port} is outside 1-65535`);
  const weight = match[3] === undefined ? 1 : Number(match[3]);
  if (weight < 1) throw invalidAddress(address, 'the weight must be 1 or more');
  return { host, port, weight };
}

/** A host name (letters, digits, `-`, `_`, dots) or an IPv4 address; IPv6 comes in brackets. */
const HOST = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

function invalidAddress(address: unknown, why: string): CacheError {
  const shown = typeof address === 'string' ? JSON.stringify(address) : String(address);
  return new CacheError('ERR_INVALID_OPTION', `invalid server address ${shown}: ${why}`, {
    context: { option: 'servers', value: address },
  });
}
