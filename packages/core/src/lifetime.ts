import { CacheError } from './errors';
import { MAX_RELATIVE_EXPTIME } from './transport';

const MAX_ABSOLUTE_EXPTIME = 0xffff_ffff;

/**
 * Turns a lifetime in seconds into memcached's exptime.
 *
 * Fractions round up: memcached counts whole seconds and 0 would mean "never expire", so 0.2 s becomes 1 s.
 * memcached reads values above 30 days as absolute Unix times, so longer lifetimes are sent as one (the clock
 * is read only for those: a `getOrSet` hit reads it once, for the entry's freshness).
 */
export function toExptime(lifetime: number, now: () => number): number {
  if (typeof lifetime !== 'number' || !Number.isFinite(lifetime) || lifetime < 0) {
    throw new CacheError(
      'ERR_INVALID_LIFETIME',
      `invalid lifetime ${String(lifetime)}: use seconds from now (a finite number >= 0; 0 = no expiry)`,
      { context: { lifetime } },
    );
  }
  if (lifetime === 0) return 0;
  const seconds = Math.ceil(lifetime);
  if (seconds <= MAX_RELATIVE_EXPTIME) return seconds;
  const absolute = Math.floor(now() / 1000) + seconds;
  if (absolute > MAX_ABSOLUTE_EXPTIME) {
    throw new CacheError(
      'ERR_INVALID_LIFETIME',
      `invalid lifetime ${lifetime}: it ends after ${new Date(MAX_ABSOLUTE_EXPTIME * 1000).toISOString()}, the last time memcached can represent; use 0 for no expiry`,
      { context: { lifetime } },
    );
  }
  return absolute;
}
