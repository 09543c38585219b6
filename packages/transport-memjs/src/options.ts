import type { CacheError } from '@lovely-memcached/core';

/** What the transport reports about servers going down and coming back, for logs and metrics. */
export type MemjsTransportEvent =
  | { type: 'server-down'; server: string; reason: string }
  | { type: 'server-up'; server: string }
  | { type: 'auth-failed'; server: string; username: string; error: CacheError };

export interface MemjsTransportOptions {
  /**
   * Deadline of every operation, in milliseconds, from the call to the reply (connecting included). A call that
   * misses it resolves as a miss / not stored, and its connection is discarded.
   * @default 500
   */
  timeout?: number;
  /**
   * How often a server found down is probed in the background, in milliseconds; while down, calls for its keys
   * resolve at once. A server that accepts connections again is back in use within about this long.
   * @default 250
   */
  probeInterval?: number;
  /** SASL PLAIN user name (memcached started with `-S`). @default undefined (no authentication) */
  username?: string;
  /** SASL PLAIN password; never logged nor put in error messages. @default undefined */
  password?: string;
  /** memcached's item size limit (`-I`) on the servers. @default 1048576 */
  maxItemSize?: number;
  /** Told when a server goes down or comes back; must not throw. @default no-op */
  onEvent?: (event: MemjsTransportEvent) => void;
}

export interface ResolvedMemjsOptions {
  timeout: number;
  probeInterval: number;
  username: string | undefined;
  password: string | undefined;
  maxItemSize: number;
  onEvent: (event: MemjsTransportEvent) => void;
}

export function resolveMemjsOptions(options: MemjsTransportOptions = {}): ResolvedMemjsOptions {
  return {
    timeout: options.timeout ?? 500,
    probeInterval: options.probeInterval ?? 250,
    username: options.username,
    password: options.password,
    maxItemSize: options.maxItemSize ?? 1024 * 1024,
    onEvent: options.onEvent ?? (() => {}),
  };
}
