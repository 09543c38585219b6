import { checkFunction, checkInteger } from '@lovely-memcached/core';

export interface MemoryTransportOptions {
  /**
   * The clock, in milliseconds since the epoch, read at every call. The default reads `Date.now()` each time, so
   * vitest's fake timers (`vi.useFakeTimers()`, `vi.advanceTimersByTime()`) drive expiry.
   * @default () => Date.now()
   */
  now?: () => number;
  /** memcached's item size limit (`-I`): key + value + 59 bytes of item header must fit. @default 1048576 */
  maxItemSize?: number;
  /** Memory per server (`-m`), in bytes; beyond it the least recently used items are evicted. @default 67108864 */
  memoryLimit?: number;
}

export interface ResolvedMemoryOptions {
  now: () => number;
  maxItemSize: number;
  memoryLimit: number;
}

/** The one place defaults are applied and options checked (`ERR_INVALID_OPTION` naming the option). */
export function resolveMemoryOptions(options: MemoryTransportOptions = {}): ResolvedMemoryOptions {
  return {
    now: options.now === undefined ? () => Date.now() : checkFunction('now', options.now),
    maxItemSize: checkInteger('maxItemSize', options.maxItemSize ?? 1024 * 1024, 1024),
    memoryLimit: checkInteger('memoryLimit', options.memoryLimit ?? 64 * 1024 * 1024, 1024),
  };
}
