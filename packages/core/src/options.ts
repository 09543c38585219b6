import { type CompressionOptions, type ResolvedCompression, resolveCompression } from './compression';
import { describeValue } from './describe-value';
import { type Duration, durationIn } from './duration';
import { CacheError } from './errors';
import { jitterOption } from './get-or-set-options';
import type { Namespace } from './key';
import { toExptime } from './lifetime';
import { type L1Options, type ResolvedL1Options, resolveL1Options } from './near-cache/l1-options';
import { checkBoolean, checkFunction } from './option-checks';
import {
  callOptionNames,
  checkCallOptionNames,
  checkOptionNames,
  checkOptionsObject,
  type OptionNames,
} from './option-names';
import type { TransportFactory } from './transport';

export interface MemcachedClientOptions {
  /**
   * Where entries are stored: `memjsTransport()` from `@lovely-memcached/transport-memjs` for real memcached,
   * `memoryTransport()` from `@lovely-memcached/transport-memory` for tests. Required: the core never picks one.
   */
  transport: TransportFactory;
  /**
   * `host:port` (or `host:port:weight`) of every server, as an array or one comma-separated string (like a
   * `MEMCACHED_SERVERS` variable); keys are spread over them by consistent hashing. `undefined` takes the
   * default, so `servers: process.env.MEMCACHED_SERVERS` works as it reads. A port must be 1-65535.
   * @default ['127.0.0.1:11211']
   */
  servers?: string | readonly string[] | undefined;
  /**
   * Lifetime of entries set without one: seconds (a number), or a string with a unit (`'30s'`, `'5m'`, `'1h'`,
   * `'1d'`); 0 = no expiry.
   * @default 3600
   */
  defaultLifetime?: Duration;
  /** Namespace of calls that give no `ns`; `null` = no namespace. @default null */
  defaultNS?: Namespace;
  /** Record stored keys so `keys()` can list them (costs an append per `set`). @default false */
  trackKeys?: boolean;
  /** The clock, in milliseconds, used to turn lifetimes over 30 days into absolute times. @default Date.now */
  now?: () => number;
  /**
   * Values whose encoded form reaches `threshold` bytes are stored compressed with `codec` (when that makes them
   * smaller); `false` turns it off. Every client reads compressed entries, whatever its own setting.
   * @default { threshold: 16384, codec: 'deflate' }
   */
  compression?: CompressionOptions | false;
  /**
   * Spreads expiry for every write (`set`, `getOrSet`, `getOrSetMany`) unless the call says otherwise: the
   * lifetime stored is drawn from `[lifetime, lifetime × (1 + jitter)]` (0–1). @default 0
   */
  jitter?: number;
  /**
   * A near cache in this process: `query` and `getOrSet` hits answered without a round trip while the copy is
   * younger than `maxStale`, within `maxBytes`; `bus` carries invalidations between processes. Off by default.
   */
  l1?: L1Options | undefined;
}

export interface ResolvedOptions {
  transport: TransportFactory;
  servers: string[];
  defaultLifetime: number;
  defaultNS: Namespace;
  trackKeys: boolean;
  now: () => number;
  compression: ResolvedCompression | undefined;
  jitter: number;
  l1: ResolvedL1Options | undefined;
}

export const DEFAULT_SERVERS: readonly string[] = ['127.0.0.1:11211'];
export const DEFAULT_LIFETIME = 3600;

/** Every name `MemcachedClientOptions` has (a name missing here fails the typecheck). */
export const CLIENT_OPTION_NAMES = {
  transport: true,
  servers: true,
  defaultLifetime: true,
  defaultNS: true,
  trackKeys: true,
  now: true,
  compression: true,
  jitter: true,
  l1: true,
} as const satisfies Record<keyof MemcachedClientOptions, true>;

/** The one place defaults are applied and options checked: a bad option fails when the client is made. */
export function resolveOptions(options: MemcachedClientOptions): ResolvedOptions {
  checkOptionNames('the MemcachedClient options', options, CLIENT_OPTION_NAMES);
  const now = options.now === undefined ? () => Date.now() : checkFunction('now', options.now);
  return {
    transport: options.transport,
    servers: serverList(options.servers ?? DEFAULT_SERVERS),
    defaultLifetime: checkDefaultLifetime(options.defaultLifetime ?? DEFAULT_LIFETIME, now()),
    defaultNS: checkDefaultNamespace(options.defaultNS ?? null),
    trackKeys: checkBoolean('trackKeys', options.trackKeys ?? false),
    now,
    compression: resolveCompression(options.compression),
    jitter: options.jitter === undefined ? 0 : jitterOption(options.jitter),
    l1: resolveL1Options(options.l1),
  };
}

/**
 * A lifetime as `set` takes it (ERR_INVALID_LIFETIME, as for a lifetime given to a call), refused now rather
 * than on the first `set`, with the option named: a bare number string from `process.env` (`'60'`, no unit) is
 * the usual culprit.
 */
function checkDefaultLifetime(value: unknown, nowMs: number): number {
  toExptime(value as Duration, () => nowMs, 'defaultLifetime');
  return durationIn('s', value);
}

function checkDefaultNamespace(value: unknown): Namespace {
  if (value !== null && typeof value !== 'string') {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `\`defaultNS\` must be a string, or null for no namespace, got ${describeValue(value)}`,
      { context: { option: 'defaultNS', value } },
    );
  }
  return value;
}

/** An array of addresses, or one comma-separated string of them. */
export function serverList(servers: unknown): string[] {
  const list =
    typeof servers === 'string'
      ? servers
          .split(',')
          .map((server) => server.trim())
          .filter((server) => server !== '')
      : servers;
  if (!Array.isArray(list) || list.length === 0 || !list.every((server) => typeof server === 'string')) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `\`servers\` must be a non-empty array of "host:port" strings, or one comma-separated string of them; got ${describeValue(servers)}`,
      { context: { option: 'servers', value: servers } },
    );
  }
  return [...list];
}

export interface SetOptions {
  /**
   * Seconds from now (a number), or a string with a unit (`'30s'`, `'5m'`, `'1h'`, `'1d'`); 0 = no expiry;
   * fractions of a second round up.
   * @default the client's `defaultLifetime`
   */
  lifetime?: Duration;
  /** Namespace; `null` = none. @default the client's `defaultNS` */
  ns?: Namespace;
  /** Use the key as it is (a string, prefixed with the namespace) instead of hashing it. @default false */
  raw?: boolean;
  /** Keys this entry depends on: `invalidate(undefined, { dependencies })` removes it. @default [] */
  dependencies?: readonly unknown[];
  /** The lifetime stored is drawn from `[lifetime, lifetime × (1 + jitter)]` (0–1). @default the client's `jitter` */
  jitter?: number;
}

export interface QueryOptions<T = unknown> {
  /** @default the client's `defaultNS` */
  ns?: Namespace;
  /** @default false */
  raw?: boolean;
  /** What a miss (or an unreachable server) gives. @default undefined */
  default?: T;
  /** `false`: read memcached even when the client's L1 holds a copy (and refresh it). @default true */
  l1?: boolean;
}

/** A raw query's options: its value comes back as stored, a string or bytes. */
export interface RawQueryOptions<D = undefined> extends QueryOptions<D> {
  raw: true;
}

export interface InvalidateOptions {
  /** @default the client's `defaultNS` */
  ns?: Namespace;
  /** @default false */
  raw?: boolean;
  /** Remove every entry set with any of these dependencies in the namespace. @default [] */
  dependencies?: readonly unknown[];
  /**
   * Expire instead of delete: the entries turn stale, `getOrSet` serves them within its grace at once while one
   * caller anywhere refreshes, `query` misses; without grace it is a hard invalidation. @default false
   */
  soft?: boolean;
}

/** `invalidateNamespace`'s options. */
export interface InvalidateNamespaceOptions {
  /** As `invalidate`'s `soft`. @default false */
  soft?: boolean;
}

export interface DependentsOptions {
  /** @default the client's `defaultNS` */
  ns?: Namespace;
}

/** The names of each call's options (a name missing here fails the typecheck). */
export const SET_OPTION_NAMES = callOptionNames({
  lifetime: true,
  ns: true,
  raw: true,
  dependencies: true,
  jitter: true,
} as const satisfies Record<keyof SetOptions, true>);
export const QUERY_OPTION_NAMES = callOptionNames({
  ns: true,
  raw: true,
  default: true,
  l1: true,
} as const satisfies Record<keyof QueryOptions, true>);
export const INVALIDATE_OPTION_NAMES = callOptionNames({
  ns: true,
  raw: true,
  dependencies: true,
  soft: true,
} as const satisfies Record<keyof InvalidateOptions, true>);
export const INVALIDATE_NAMESPACE_OPTION_NAMES = callOptionNames({
  soft: true,
} as const satisfies Record<keyof InvalidateNamespaceOptions, true>);
export const DEPENDENTS_OPTION_NAMES = callOptionNames({
  ns: true,
} as const satisfies Record<keyof DependentsOptions, true>);

/**
 * A call's options object, checked: an object, and no name that no call takes (one options object may serve
 * several calls: `lifetime` passes `query`, `ttl` passes nothing). A few property reads, no allocation; a call
 * without options never gets here.
 */
export function checkCallOptions(call: string, options: unknown, known: OptionNames): void {
  checkOptionsObject(`the options of ${call}()`, options);
  checkCallOptionNames(`the options of ${call}()`, options as object, known);
}
