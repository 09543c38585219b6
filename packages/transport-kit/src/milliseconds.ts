/**
 * Delays for setTimeout, checked: every option in milliseconds (a transport's deadline and probe interval, the
 * auto-discovery interval) goes through here. A module of its own, below both the options and auto-discovery.
 */
import { CacheError, describeValue, durationIn } from '@lovely-memcached/core';

/** setTimeout's limit: a longer delay fires after 1 ms instead (every call would time out at once). */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * A delay for setTimeout, given in milliseconds or as a string with a unit (`'500ms'`, `'2s'`, `'1m'`): NaN
 * would never fire (a call hangs), 0 or less would fire at once (no caching).
 */
export function checkMilliseconds(name: string, value: unknown): number {
  const ms = durationIn('ms', value);
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_TIMER_DELAY) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `\`${name}\` must be a finite number of milliseconds > 0 and <= ${MAX_TIMER_DELAY}, or a string with a unit ('250ms', '30s', '5m', '1h', '1d'), got ${describeValue(value)}`,
      { context: { option: name, value } },
    );
  }
  return ms;
}
