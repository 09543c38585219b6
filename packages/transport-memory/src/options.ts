import { checkFunction, checkInteger, checkOptionNames, checkOptionsObject } from '@lovely-memcached/core';

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

/** Every name `MemoryTransportOptions` has (a name missing here fails the typecheck). */
const MEMORY_OPTION_NAMES = {
  now: true,
  maxItemSize: true,
  memoryLimit: true,
} as const satisfies Record<keyof MemoryTransportOptions, true>;

/**
 * The one place defaults are applied and options checked (`ERR_INVALID_OPTION` naming the option; a name it
 * does not know is refused with the closest known one).
 */
export function resolveMemoryOptions(options: MemoryTransportOptions = {}): ResolvedMemoryOptions {
  // An array is the server list of `transport: memoryTransport` passed uncalled: the client says what to write.
  if (!Array.isArray(options)) {
    checkOptionsObject('the memoryTransport() options', options);
    checkOptionNames('the memoryTransport() options', options, MEMORY_OPTION_NAMES);
  }
  return {
    now: options.now === undefined ? () => Date.now() : checkFunction('now', options.now),
    maxItemSize: checkInteger('maxItemSize', options.maxItemSize ?? 1024 * 1024, 1024),
    memoryLimit: checkInteger('memoryLimit', options.memoryLimit ?? 64 * 1024 * 1024, 1024),
  };
}
