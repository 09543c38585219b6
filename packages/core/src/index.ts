export { MemcachedClient, type Storable } from './client';
export type { Codec, CodecName, CompressionOptions } from './compression';
export { MAX_DECOMPRESSED_BYTES } from './compression';
export {
  CacheError,
  type CacheErrorCode,
  type CacheErrorContext,
  type CacheErrorOptions,
  errors,
  InvalidKeyError,
  InvalidValueError,
  isCacheError,
  KeyTrackingDisabledError,
} from './errors';
export type { Freshness } from './freshness';
export type { GetOrSetOptions } from './get-or-set-options';
export { createHashRing, type HashRing } from './ketama';
export { assertMemcachedKey, isMemcachedKey, type Key, type KeyPrimitive, type Namespace } from './key';
export { type LeasedRead, type LeaseOutcome, type Leases, leaseKey } from './lease';
export {
  callSafely,
  checkBoolean,
  checkFunction,
  checkInteger,
  checkPositiveNumber,
  checkString,
  isThenable,
  warnOnce,
} from './option-checks';
export type {
  DependentsOptions,
  InvalidateOptions,
  MemcachedClientOptions,
  QueryOptions,
  SetOptions,
} from './options';
export type { Factory, FactoryContext } from './read-through';
export {
  type CommandContext,
  commandChannel,
  factoryChannel,
  leaseWaitChannel,
  type OperationContext,
  operationChannels,
  publishServerEvent,
  type ReadThroughContext,
  type ServerEvent,
  serverChannel,
  type TracedOperation,
  traceCommand,
} from './tracing';
export {
  DEFAULT_MAX_ITEM_SIZE,
  type DeleteOptions,
  MAX_KEY_LENGTH,
  MAX_RELATIVE_EXPTIME,
  MEMCACHED_ITEM_OVERHEAD,
  parseServerAddress,
  type ServerStats,
  type StoreOptions,
  type StoreStatus,
  TRANSPORT_SPECIFICATION_VERSION,
  type Transport,
  type TransportCapabilities,
  type TransportFactory,
  type TransportItem,
} from './transport';
export { assertExptime, assertFlags, toDelta } from './transport-arguments';
