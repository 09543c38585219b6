export { type BusError, busErrors } from './bus-errors';
export { defaultBus } from './default-bus';
export { invalidateCache } from './invalidate-cache';
export { InvalidateCacheEvent, type InvalidateCacheEventInit } from './invalidate-cache-event';
export { type InvalidatingClient, InvalidationBus, type InvalidationHandler } from './invalidation-bus';
