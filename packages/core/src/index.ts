export { MemcachedClient, type Storable } from './client';
export type { Codec, CodecName, CompressionOptions } from './compression';
export { MAX_DECOMPRESSED_BYTES } from './compression';
export { article, describeValue } from './describe-value';
export {
  type Duration,
  type DurationString,
  type DurationUnit,
  durationHint,
  durationIn,
  parseDuration,
} from './duration';
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
export type { FactoryContext, FactoryOptions } from './factory-context';
export type { Factory } from './factory-runner';
export type { Freshness } from './freshness';
export type { GetOrSetManyOptions, ManyFactory, ManyFactoryContext } from './get-or-set-many';
export type { GetOrSetOptions } from './get-or-set-options';
export { createHashRing, type HashRing } from './ketama';
export { assertMemcachedKey, isMemcachedKey, type Key, type KeyPrimitive, type Namespace } from './key';
export { type LeasedRead, type LeaseOutcome, type Leases, leaseKey } from './lease';
export type { L1Bus } from './near-cache/bus';
export type { L1Options, Size } from './near-cache/l1-options';
export { decodeMessage as decodeL1Message, type L1Message } from './near-cache/messages';
export type { L1Stats } from './near-cache/near-cache';
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
export { checkOptionNames, checkOptionsObject, closestName, type OptionNames } from './option-names';
export type {
  DependentsOptions,
  InvalidateNamespaceOptions,
  InvalidateOptions,
  MemcachedClientOptions,
  QueryOptions,
  RawQueryOptions,
  SetOptions,
} from './options';
export {
  type CommandContext,
  commandChannel,
  factoryChannel,
  type L1TraceInfo,
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
