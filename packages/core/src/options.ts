import type { Namespace } from './key';
import type { TransportFactory } from './transport';

export interface MemcachedClientOptions {
  /**
   * Where entries are stored: `memjsTransport()` from `@lovely-memcached/transport-memjs` for real memcached,
   * `memoryTransport()` from `@lovely-memcached/transport-memory` for tests. Required: the core never picks one.
   */
  transport: TransportFactory;
  /** `host:port` (or `host:port:weight`) of every server; keys are spread over them by consistent hashing.
   * @default ['127.0.0.1:11211'] */
  servers?: readonly string[];
  /** Lifetime of entries set without one, in seconds; 0 = no expiry. @default 3600 */
  defaultLifetime?: number;
  /** Namespace of calls that give no `ns`; `null` = no namespace. @default null */
  defaultNS?: Namespace;
  /** Record stored keys so `keys()` can list them (costs an append per `set`). @default false */
  trackKeys?: boolean;
  /** The clock, in milliseconds, used to turn lifetimes over 30 days into absolute times. @default Date.now */
  now?: () => number;
}

export interface ResolvedOptions {
  transport: TransportFactory;
  servers: string[];
  defaultLifetime: number;
  defaultNS: Namespace;
  trackKeys: boolean;
  now: () => number;
}

export const DEFAULT_SERVERS: readonly string[] = ['127.0.0.1:11211'];
export const DEFAULT_LIFETIME = 3600;

/** The one place defaults are applied. */
export function resolveOptions(options: MemcachedClientOptions): ResolvedOptions {
  return {
    transport: options.transport,
    servers: [...(options.servers ?? DEFAULT_SERVERS)],
    defaultLifetime: options.defaultLifetime ?? DEFAULT_LIFETIME,
    defaultNS: options.defaultNS ?? null,
    trackKeys: options.trackKeys ?? false,
    now: options.now ?? (() => Date.now()),
  };
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

export interface QueryOptions<T> {
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
