/**
 * The options every network transport shares, checked and defaulted in one place: a bad option fails when the
 * transport is made, with the same wording for every transport, not on first use.
 */
import {
  type CacheError,
  callSafely,
  checkFunction,
  checkInteger,
  type Duration,
  publishServerEvent,
  serverChannel,
} from '@lovely-memcached/core';
import { type AutoDiscoverOptions, checkAutoDiscover, type DiscoveryEvent } from './cluster-discovery';
import { checkGutter, type GutterEvent, type GutterOptions, type ResolvedGutter } from './gutter';
import { checkMilliseconds } from './milliseconds';
import type { MissedWritesEvent } from './missed-writes';

/**
 * What a transport reports about servers going down and coming back, for logs and metrics.
 *
 * `reason` of `server-down`: `connect` (the connection could not be made; `code` says why, e.g.
 * `ECONNREFUSED`, or the TLS error), `timeout` (no reply within the deadline), `closed` (the server closed the
 * connection with requests pending; `code` when the socket reported an error such as `ECONNRESET`),
 * `closed-before-reply` (closed before it answered anything: over plain TCP most likely a TLS-only server, over TLS
 * a server that refused the client certificate; `code` the reset or the TLS alert), `garbage`
 * (a reply that is not memcached's), `auth` (credentials refused).
 *
 * Losing a server: `gutter` (its keys go to the gutter pool until it is back), `replayed` (the deletes it
 * missed were applied before it was used again), `flushed` (it was flushed before it was used again).
 */
export type TransportEvent =
  | { type: 'server-down'; server: string; reason: string; code?: string }
  | { type: 'server-up'; server: string }
  | { type: 'auth-failed'; server: string; username: string; error: CacheError }
  | GutterEvent
  | MissedWritesEvent
  | DiscoveryEvent;

/** The options every network transport takes (each transport adds its own). */
export interface CommonTransportOptions<E = TransportEvent> {
  /**
   * Deadline of every operation, from the call to the reply (connecting included): milliseconds, or a string
   * with a unit (`'500ms'`, `'2s'`). A call that misses it resolves as a miss / not stored, and its connection
   * is discarded. Above 0 and at most 2^31 - 1 ms (setTimeout's limit); anything else is refused with
   * `ERR_INVALID_OPTION` when the transport is made.
   * @default 500
   */
  timeout?: Duration;
  /**
   * How often a server found down is probed in the background (milliseconds, or a string with a unit); while
   * down, calls for its keys resolve at once. A server that accepts connections again is back in use within
   * about this long. Same range as `timeout`.
   * @default 250
   */
  probeInterval?: Duration;
  /** memcached's item size limit (`-I`) on the servers. @default 1048576 */
  maxItemSize?: number;
  /**
   * Told when a server goes down or comes back. Must not throw: a throw is caught (this runs inside socket
   * handlers) and reported once per process with `process.emitWarning`.
   * @default no-op
   */
  onEvent?: (event: E) => void;
  /**
   * Cluster auto-discovery (ElastiCache's configuration endpoint): poll `config get cluster` on `endpoint`
   * (default: the first server given) every `interval` ms and use the nodes it lists, rebuilt when its version
   * changes (a `cluster-changed` event); while a poll fails the transport keeps its nodes (`discovery-failed`).
   * `true` = `{ interval: 60000 }`.
   * @default false
   */
  autoDiscover?: boolean | AutoDiscoverOptions;
  /**
   * Spare servers that take the keys of a server while it is down (ketama over them), everything stored there
   * capped to `maxLifetime` seconds (default 10), leases included; with the gutter down too, the usual miss.
   * `servers` must not be empty nor name one of the transport's own servers.
   * @default undefined (a down server's keys read as misses)
   */
  gutter?: GutterOptions;
  /**
   * Deletes, and writes as deletes, of keys whose server is unreachable are remembered, at most this many per
   * server, and applied when it is reachable again, before it is used: it never serves a value invalidated or
   * replaced while it was away. Past this many, it is flushed before it is used again.
   * @default 100000
   */
  maxQueuedDeletes?: number;
}

/**
 * Every name `CommonTransportOptions` has (a name missing here fails the typecheck): each transport adds its
 * own, and refuses a name in neither list with the closest known one (`timout` → `timeout`).
 */
export const COMMON_OPTION_NAMES = {
  timeout: true,
  probeInterval: true,
  maxItemSize: true,
  onEvent: true,
  autoDiscover: true,
  gutter: true,
  maxQueuedDeletes: true,
} as const satisfies Record<keyof CommonTransportOptions, true>;

export interface ResolvedCommonOptions {
  /** The transport's name in events and warnings, e.g. `memjs`. */
  transport: string;
  timeout: number;
  probeInterval: number;
  maxItemSize: number;
  /** Connections per server. */
  connections: number;
  onEvent: (event: TransportEvent) => void;
  autoDiscover: { endpoint: string | undefined; interval: number } | undefined;
  gutter: ResolvedGutter | undefined;
  maxQueuedDeletes: number;
}

/**
 * Defaults and checks of the shared options. Every event also goes to the `lovely-memcached:server` channel,
 * so one subscriber sees every transport; a listener that throws (it runs inside socket handlers) must not
 * become an uncaught exception.
 */
export function resolveCommonOptions(
  transport: string,
  options: CommonTransportOptions<never> & { connections?: number },
): ResolvedCommonOptions {
  const onEvent =
    options.onEvent === undefined
      ? undefined
      : (checkFunction('onEvent', options.onEvent) as (event: TransportEvent) => void);
  let authWarned = false;
  return {
    transport,
    timeout: checkMilliseconds('timeout', options.timeout ?? 500),
    probeInterval: checkMilliseconds('probeInterval', options.probeInterval ?? 250),
    maxItemSize: checkInteger('maxItemSize', options.maxItemSize ?? 1024 * 1024, 1024),
    connections: checkInteger('connections', options.connections ?? 1, 1),
    autoDiscover: checkAutoDiscover(options.autoDiscover),
    gutter: checkGutter(options.gutter),
    maxQueuedDeletes: checkInteger('maxQueuedDeletes', options.maxQueuedDeletes ?? 100_000, 0),
    onEvent: (event) => {
      if (event.type === 'auth-failed') {
        publishServerEvent({ type: event.type, server: event.server, username: event.username, transport });
        // Every read then misses and every write is lost: visible without `onEvent`, as an unreachable server is.
        if (!authWarned) {
          authWarned = true;
          process.emitWarning(
            `[lovely-memcached] ${transport}Transport: ${event.error.message.replace(/^\[lovely-memcached\] /, '')}; reads of its keys miss and writes store nothing until it accepts the credentials`,
            { type: 'LovelyMemcachedWarning', code: 'LOVELY_MEMCACHED_AUTH' },
          );
        }
      } else if (event.type === 'server-down' || event.type === 'server-up') {
        publishServerEvent({ ...event, transport });
      } else if (event.type === 'gutter' || event.type === 'replayed' || event.type === 'flushed') {
        // Not (yet) in core's ServerEvent union: published as is, in the same shape (see opentelemetry).
        if (serverChannel.hasSubscribers) serverChannel.publish({ ...event, transport });
      }
      if (onEvent !== undefined) callSafely(`${transport}Transport \`onEvent\` threw`, onEvent, event);
    },
  };
}
