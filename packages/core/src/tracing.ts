/**
 * Observability through `node:diagnostics_channel`, Node's convention for libraries: APM tools and
 * `@lovely-memcached/opentelemetry` subscribe; nobody is imported. Every public operation runs on a
 * `TracingChannel` named `lovely-memcached:<operation>`; transports trace each request to a server on
 * `lovely-memcached:command`, and report servers going down and up on `lovely-memcached:server`.
 *
 * Context objects carry keys and outcomes, never a value. When no one subscribes, nothing is published and
 * nothing is allocated for it: callers check `hasSubscribers` before building a context.
 */
import { channel, type TracingChannel, tracingChannel } from 'node:diagnostics_channel';
import type { Namespace } from './key';

export type TracedOperation =
  | 'query'
  | 'set'
  | 'getOrSet'
  | 'invalidate'
  | 'invalidateNamespace'
  | 'invalidateAll'
  | 'keys'
  | 'dependents'
  | 'getStatistics';

/** What an operation's tracing context holds; filled in as the operation goes (`hit`, `stale` at the end). */
export interface OperationContext {
  operation: TracedOperation;
  /** The key as given (not for operations without one). */
  key?: unknown;
  ns?: Namespace;
  /** The key memcached sees (hashed, or raw with its namespace). */
  memcachedKey?: string;
  /** Reads: whether a value was found (`query`, `getOrSet`). */
  hit?: boolean;
  /** `getOrSet`: whether a stale value (past its lifetime, within grace) was served. */
  stale?: boolean;
  /** The server(s) the client uses, `host:port`. */
  servers: readonly string[];
  /** Reads of a client with the `l1` option: whether L1 answered, and its size at that moment. */
  l1?: L1TraceInfo;
}

/** L1 as a read's tracing context sees it. */
export interface L1TraceInfo {
  /** Answered from L1, without a round trip. */
  hit: boolean;
  /** Bytes L1 holds. */
  bytes: number;
  entries: number;
  /** Copies evicted to stay under `maxBytes`, since the client was made. */
  evictions: number;
}

/** One request of a transport to one server. */
export interface CommandContext {
  command: string;
  /** `host:port` */
  server: string;
  /** How many keys the request carries (0 for server commands such as `stats`). */
  keys: number;
}

/** A read-through factory run (`lovely-memcached:factory`) or a wait for another caller's value (`lovely-memcached:lease-wait`). */
export interface ReadThroughContext {
  memcachedKey: string;
}

/** Servers going down, coming back, or refusing credentials, as every transport reports them. */
export type ServerEvent =
  | { type: 'server-down'; server: string; reason: string; code?: string; transport: string }
  | { type: 'server-up'; server: string; transport: string }
  | { type: 'auth-failed'; server: string; username: string; transport: string }
  /** A down server's keys go to the gutter pool (transport-kit's `gutter` option) until it is back. */
  | { type: 'gutter'; server: string; gutter: string[]; transport: string }
  /** The deletes a returning server missed were applied before it was used again. */
  | { type: 'replayed'; server: string; deletes: number; ms: number; transport: string }
  /** A returning server was flushed first: it missed more than `maxQueuedDeletes` keys, or a flush. */
  | { type: 'flushed'; server: string; reason: 'overflow' | 'flush'; transport: string };

const OPERATIONS: readonly TracedOperation[] = [
  'query',
  'set',
  'getOrSet',
  'invalidate',
  'invalidateNamespace',
  'invalidateAll',
  'keys',
  'dependents',
  'getStatistics',
];

export const operationChannels = Object.fromEntries(
  OPERATIONS.map((operation) => [operation, tracingChannel(`lovely-memcached:${operation}`)]),
) as Record<TracedOperation, TracingChannel<unknown, OperationContext>>;

export const commandChannel: TracingChannel<unknown, CommandContext> =
  tracingChannel('lovely-memcached:command');
export const factoryChannel: TracingChannel<unknown, ReadThroughContext> =
  tracingChannel('lovely-memcached:factory');
export const leaseWaitChannel: TracingChannel<unknown, ReadThroughContext> = tracingChannel(
  'lovely-memcached:lease-wait',
);
export const serverChannel = channel('lovely-memcached:server');

/**
 * Runs a transport request on the command channel when someone listens (the context is only built then).
 * Transports call it around each request to one server.
 */
export function traceCommand<T>(
  command: string,
  server: string,
  keys: number,
  request: () => Promise<T>,
): Promise<T> {
  if (!commandChannel.hasSubscribers) return request();
  return commandChannel.tracePromise(request, { command, server, keys });
}

/** Reports a server event on `lovely-memcached:server`, when someone listens. */
export function publishServerEvent(event: ServerEvent): void {
  if (serverChannel.hasSubscribers) serverChannel.publish(event);
}
