import { type CompressionOptions, type ResolvedCompression, resolveCompression } from './compression';
import { CacheError } from './errors';
import type { Namespace } from './key';
import { toExptime } from './lifetime';
import { checkBoolean, checkFunction } from './option-checks';
import type { TransportFactory } from './transport';

export interface MemcachedClientOptions {
  /**
   * Where entries are stored: `memjsTransport()` from `@lovely-memcached/transport-memjs` for real memcached,
   * `memoryTransport()` from `@lovely-memcached/transport-memory` for tests. Required: the core never picks one.
   */
  transport: TransportFactory;
  /**
   * `host:port` (or `host:port:weight`) of every server, as an array or one comma-separated string (like a
   * `MEMCACHED_SERVERS` variable); keys are spread over them by consistent hashing.
   * @default ['127.0.0.1:11211']
   */
  servers?: string | readonly string[];
  /** Lifetime of entries set without one, in seconds; 0 = no expiry. @default 3600 */
  defaultLifetime?: number;
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
}

export interface ResolvedOptions {
  transport: TransportFactory;
  servers: string[];
  defaultLifetime: number;
  defaultNS: Namespace;
  trackKeys: boolean;
  now: () => number;
  compression: ResolvedCompression | undefined;
}

export const DEFAULT_SERVERS: readonly string[] = ['127.0.0.1:11211'];
export const DEFAULT_LIFETIME = 3600;

/** The one place defaults are applied and options checked: a bad option fails when the client is made. */
export function resolveOptions(options: MemcachedClientOptions): ResolvedOptions {
  const now = options.now === undefined ? () => Date.now() : checkFunction('now', options.now);
  return {
    transport: options.transport,
    servers: serverList(options.servers ?? DEFAULT_SERVERS),
    defaultLifetime: checkDefaultLifetime(options.defaultLifetime ?? DEFAULT_LIFETIME, now()),
    defaultNS: checkDefaultNamespace(options.defaultNS ?? null),
    trackKeys: checkBoolean('trackKeys', options.trackKeys ?? false),
    now,
    compression: resolveCompression(options.compression),
  };
}

/** How a bad option value is shown in a message: strings quoted, so `"60"` is not mistaken for `60`. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value); // Object.create(null) has no toString
  }
}

/**
 * A lifetime as `set` takes it (ERR_INVALID_LIFETIME, as for a lifetime given to a call), refused now rather
 * than on the first `set`, with the option named: a string from `process.env` is the usual culprit.
 */
function checkDefaultLifetime(value: unknown, nowMs: number): number {
  const context = { option: 'defaultLifetime', value };
  if (typeof value !== 'number') {
    throw new CacheError(
      'ERR_INVALID_LIFETIME',
      `\`defaultLifetime\` must be a number of seconds (0 = no expiry), got ${shown(value)}${typeof value === 'string' ? ': convert it, e.g. `Number(process.env.LIFETIME)`' : ''}`,
      { context },
    );
  }
  try {
    toExptime(value, () => nowMs);
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^\[lovely-memcached\] /, '') : String(error);
    throw new CacheError('ERR_INVALID_LIFETIME', `\`defaultLifetime\` ${shown(value)} refused: ${reason}`, {
      cause: error,
      context,
    });
  }
  return value;
}

function checkDefaultNamespace(value: unknown): Namespace {
  if (value !== null && typeof value !== 'string') {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `\`defaultNS\` must be a string, or null for no namespace, got ${shown(value)}`,
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
      `\`servers\` must be a non-empty array of "host:port" strings, or one comma-separated string of them; got ${JSON.stringify(servers)}`,
      { context: { option: 'servers', value: servers } },
    );
  }
  return [...list];
}

export interface SetOptions {
  /** Seconds from now; 0 = no expiry; fractions round up. @default the client's `defaultLifetime` */
  lifetime?: number;
  /** Namespace; `null` = none. @default the client's `defaultNS` */
  ns?: Namespace;
  /** Use the key as it is (a string, prefixed with the namespace) instead of hashing it. @default false */
  raw?: boolean;
  /** Keys this entry depends on: `invalidate(undefined, { dependencies })` removes it. @default [] */
  dependencies?: readonly unknown[];
}

export interface QueryOptions<T = unknown> {
  /** @default the client's `defaultNS` */
  ns?: Namespace;
  /** @default false */
  raw?: boolean;
  /** What a miss (or an unreachable server) gives. @default undefined */
  default?: T;
}

export interface InvalidateOptions {
  /** @default the client's `defaultNS` */
  ns?: Namespace;
  /** @default false */
  raw?: boolean;
  /** Remove every entry set with any of these dependencies in the namespace. @default [] */
  dependencies?: readonly unknown[];
}

export interface DependentsOptions {
  /** @default the client's `defaultNS` */
  ns?: Namespace;
}
