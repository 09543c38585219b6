/**
 * Checks of a transport call's arguments, shared by every transport: a bad argument rejects that call alone
 * with a `CacheError`, before anything is encoded or sent (never a RangeError from deep in an encoder).
 */
import { describeValue } from './describe-value';
import { CacheError } from './errors';

function badArgument(name: string, value: unknown, expected: string): CacheError {
  return new CacheError(
    'ERR_INVALID_OPTION',
    `\`${name}\` must be ${expected}, got ${describeValue(value)}`,
    {
      context: { [name]: value },
    },
  );
}

/** memcached's exptime: a whole number that fits its 32 bits (negative = already expired). */
export function assertExptime(exptime: number): void {
  if (!Number.isInteger(exptime) || exptime > 0xffff_ffff || exptime < -0x8000_0000)
    throw badArgument('exptime', exptime, 'a whole number of seconds within 32 bits');
}

/** memcached's flags word: 32 bits, unsigned. */
export function assertFlags(flags: number): void {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff_ffff)
    throw badArgument('flags', flags, 'a whole number from 0 to 2^32 - 1');
}

/** An `incr` delta as memcached's unsigned 64-bit number. */
export function toDelta(delta: number | bigint): bigint {
  const valid =
    typeof delta === 'bigint' ? delta >= 0n && delta < 2n ** 64n : Number.isSafeInteger(delta) && delta >= 0;
  if (!valid) throw badArgument('delta', delta, 'a whole number from 0 to 2^64 - 1');
  return BigInt(delta);
}
