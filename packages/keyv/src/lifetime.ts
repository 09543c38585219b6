/**
 * Keyv's ttl (milliseconds) as a memcached lifetime (whole seconds).
 *
 * memcached keeps time in whole seconds and its clock ticks once a second, so an item set with lifetime `n` can
 * vanish after only `n - 1` seconds (set just before a tick). Keyv writes the exact expiry into every envelope it
 * stores and checks it on each read, so the memcached lifetime only has to outlive it: rounded up, plus the one
 * second a tick can eat. An entry then lives at least its ttl in memcached and reads as expired exactly on time.
 */

/** The lifetime in seconds (0 = no expiry), or `'expired'` for a ttl already past. */
export function lifetimeOf(ttl: unknown): number | 'expired' {
  // Keyv sends `undefined` for "no ttl"; a NaN ttl gives an envelope whose expiry never passes, so none here too.
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl === 0 || ttl === Number.POSITIVE_INFINITY) return 0;
  if (ttl < 0) return 'expired';
  return Math.ceil(ttl / 1000) + 1;
}
