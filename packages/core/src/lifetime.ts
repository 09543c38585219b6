import { describeValue } from './describe-value';
import { type Duration, durationHint, durationIn } from './duration';
import { CacheError } from './errors';
import { MAX_RELATIVE_EXPTIME } from './transport';

const MAX_ABSOLUTE_EXPTIME = 0xffff_ffff;

/**
 * Turns a lifetime (seconds, or a string with a unit) into memcached's exptime.
 *
 * Fractions round up: memcached counts whole seconds and 0 would mean "never expire", so 0.2 s becomes 1 s.
 * memcached reads values above 30 days as absolute Unix times, so longer lifetimes are sent as one (the clock
 * is read only for those: a `getOrSet` hit reads it once, for the entry's freshness). `option` names the
 * option in the error, with the value as it was given.
 */
export function toExptime(lifetime: Duration, now: () => number, option = 'lifetime'): number {
  const seconds = typeof lifetime === 'number' ? lifetime : durationIn('s', lifetime);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new CacheError(
      'ERR_INVALID_LIFETIME',
      `invalid \`${option}\` ${describeValue(lifetime)}: use ${durationHint('s', lifetime, '>= 0, 0 = no expiry')}`,
      { context: { option, value: lifetime, lifetime } },
    );
  }
  if (seconds === 0) return 0;
  const whole = Math.ceil(seconds);
  if (whole <= MAX_RELATIVE_EXPTIME) return whole;
  const absolute = Math.floor(now() / 1000) + whole;
  if (absolute > MAX_ABSOLUTE_EXPTIME) {
    throw new CacheError(
      'ERR_INVALID_LIFETIME',
      `invalid \`${option}\` ${describeValue(lifetime)}: it ends after ${new Date(MAX_ABSOLUTE_EXPTIME * 1000).toISOString()}, the last time memcached can represent; use 0 for no expiry`,
      { context: { option, value: lifetime, lifetime } },
    );
  }
  return absolute;
}
