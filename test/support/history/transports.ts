/**
 * The transports a history runs over, and the clients a process makes. Every network transport gets a
 * generous deadline: on a loaded machine a reply later than the default turns a read into a miss, which is
 * harmless to the checker but leaves less to check.
 */
import { redisBus } from '@lovely-memcached/bus-redis';
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import type { GutterOptions } from '@lovely-memcached/transport-kit';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';

export type HistoryTransport = 'memory' | 'memjs' | 'meta' | 'meta-proxy';
export type NetworkTransport = Exclude<HistoryTransport, 'memory'>;

export const HISTORY_TRANSPORTS: readonly HistoryTransport[] = ['memory', 'memjs', 'meta', 'meta-proxy'];

export const DEFAULT_DEADLINE_MS = 2000;

/** Options of the network transports a run may set (JSON: they go to the worker processes), e.g. a gutter. */
export interface HistoryTransportOptions {
  gutter?: GutterOptions;
  probeInterval?: number;
  maxQueuedDeletes?: number;
}

export function networkTransport(
  name: NetworkTransport,
  timeout = DEFAULT_DEADLINE_MS,
  options: HistoryTransportOptions = {},
): TransportFactory {
  switch (name) {
    case 'memjs':
      return memjsTransport({ ...options, timeout });
    case 'meta':
      return metaTransport({ ...options, timeout });
    case 'meta-proxy':
      return metaTransport({ ...options, proxy: true, timeout });
  }
}

/** One client per `clientsPerProcess`, each with its own connections (a factory call per client). */
export function makeClients(
  transport: () => TransportFactory,
  servers: readonly string[],
  count: number,
  l1?: HistoryL1Options,
): MemcachedClient[] {
  return Array.from(
    { length: count },
    () =>
      new MemcachedClient({
        transport: transport(),
        servers,
        ...(l1 === undefined
          ? {}
          : {
              l1: {
                maxBytes: '16mb',
                maxStale: l1.maxStaleMs,
                // A bus per client: every client has its own L1, as every process would.
                ...(l1.redisUrl === undefined
                  ? {}
                  : { bus: redisBus({ url: l1.redisUrl, commandTimeout: 200 }) }),
              },
            }),
      }),
  );
}

/**
 * L1 on every client of a run (issue 24; JSON: it goes to the worker processes): `maxStaleMs`, and the Redis
 * the bus runs on (none: no bus). Each client has its own L1, so the checker allows reads by a client other
 * than the invalidating one `maxStaleMs` (check.ts, `l1StaleUs`), and the invalidating client none.
 */
export interface HistoryL1Options {
  maxStaleMs: number;
  redisUrl?: string;
}
