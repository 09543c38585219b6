/**
 * The names this instrumentation writes. Standard ones follow the OpenTelemetry database semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/database/); ours are under `lovely_memcached.`.
 * Kept as plain strings, so no dependency on `@opentelemetry/semantic-conventions` (whose newer names live on
 * an unstable entry point).
 */

export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
export const ATTR_DB_OPERATION_NAME = 'db.operation.name';
export const ATTR_DB_NAMESPACE = 'db.namespace';
export const ATTR_DB_OPERATION_BATCH_SIZE = 'db.operation.batch.size';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_ERROR_TYPE = 'error.type';

/** The key memcached sees (hashed, or raw with its namespace); only with `captureKeys: true`. */
export const ATTR_LOVELY_MEMCACHED_KEY = 'lovely_memcached.key';
/** Reads (`query`, `getOrSet`): whether a value was found. */
export const ATTR_LOVELY_MEMCACHED_HIT = 'lovely_memcached.hit';
/** `getOrSet`: whether a stale value (past its lifetime, within grace) was served. */
export const ATTR_LOVELY_MEMCACHED_STALE = 'lovely_memcached.stale';
/** Reads of a client with L1: whether L1 answered them (no round trip). */
export const ATTR_LOVELY_MEMCACHED_L1_HIT = 'lovely_memcached.l1.hit';
/** On `lovely_memcached.cache.reads`: `hit`, `miss` or `stale`. */
export const ATTR_RESULT = 'result';
/**
 * On `lovely_memcached.server.events`: `server-down`, `server-up`, `auth-failed`; and when a server is lost,
 * `gutter` (its keys go to the gutter pool), `replayed` (the deletes it missed were applied before it was used
 * again), `flushed` (it was flushed before it was used again).
 */
export const ATTR_LOVELY_MEMCACHED_SERVER_EVENT = 'lovely_memcached.server.event';
/** On `lovely_memcached.server.events`: the transport that saw it (`memjs`, `memory`, ...). */
export const ATTR_LOVELY_MEMCACHED_TRANSPORT = 'lovely_memcached.transport';

export const DB_SYSTEM_NAME_VALUE_MEMCACHED = 'memcached';

/** Histogram (s) of public operations (`query`, `set`, `getOrSet`, ...), by `db.operation.name`. */
export const METRIC_DB_CLIENT_OPERATION_DURATION = 'db.client.operation.duration';
/** Histogram (s) of each request to one server (`get`, `getMulti`, `set`, ...), by server. */
export const METRIC_LOVELY_MEMCACHED_COMMAND_DURATION = 'lovely_memcached.command.duration';
/** Counter of reads by `result` (`hit` / `miss` / `stale`) and `db.operation.name` (`query` / `getOrSet`). */
export const METRIC_LOVELY_MEMCACHED_CACHE_READS = 'lovely_memcached.cache.reads';
/** Counter of `getOrSet` factory runs (cold fills and refreshes). */
export const METRIC_LOVELY_MEMCACHED_FACTORY_CALLS = 'lovely_memcached.factory.calls';
/** Counter of `getOrSet` callers that waited for another caller's value instead of running the factory. */
export const METRIC_LOVELY_MEMCACHED_LEASE_WAITS = 'lovely_memcached.lease.waits';
/** Counter of server events: down, up, refused credentials, gutter, replayed, flushed. */
export const METRIC_LOVELY_MEMCACHED_SERVER_EVENTS = 'lovely_memcached.server.events';
/** Counter of deletes a server missed while unreachable, applied when it was back (before it was used). */
export const METRIC_LOVELY_MEMCACHED_REPLAYED_DELETES = 'lovely_memcached.server.replayed_deletes';
/** Counter of reads of clients with L1 by `result`: `hit` (answered from L1) or `miss` (went to memcached). */
export const METRIC_LOVELY_MEMCACHED_L1_READS = 'lovely_memcached.l1.reads';
/** Gauge (By) of the bytes L1 holds, as the last traced read saw them. */
export const METRIC_LOVELY_MEMCACHED_L1_BYTES = 'lovely_memcached.l1.bytes';
/** Counter of L1 copies evicted to stay under `maxBytes`, as the last traced read saw it. */
export const METRIC_LOVELY_MEMCACHED_L1_EVICTIONS = 'lovely_memcached.l1.evictions';
