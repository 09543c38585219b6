/**
 * Checks of transport call arguments that core's transport-arguments.ts does not have yet, shared by the
 * network transports: a bad argument fails its own call with a CacheError, before anything is encoded.
 */
import { CacheError, describeValue } from '@lovely-memcached/core';

/** memcached's CAS unique is an unsigned 64-bit number (a RangeError from an encoder would be no CacheError). */
export function assertCasUnique(cas: unknown): void {
  if (typeof cas !== 'bigint' || cas < 0n || cas >= 2n ** 64n) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `\`cas\` must be a CAS value as read (a bigint from 0 to 2^64 - 1), got ${describeValue(cas)}`,
      { context: { cas } },
    );
  }
}

/**
 * Runs `run`, turning what it throws (a CacheError for a bad argument, found while checking or encoding) into
 * its rejection: a method that returns a promise never throws, and the bad call fails alone.
 */
export function rejecting<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
}
