/**
 * Read-through leases kept by memcached itself.
 *
 * - `readWithLease`, `getOrSet`'s read of a hashed key: `mg <entry> v f c N<ttl> R<grace>` reads the entry and
 *   settles who computes in the same round trip. On a miss memcached creates an empty placeholder (flags 0,
 *   for `ttl` seconds) and answers `W` to exactly one caller and `Z` to every other until the winner's value
 *   replaces it; with `R`, the first caller to read an entry whose grace has begun gets `W` (refresh it), the
 *   others `Z` (serve it stale). A miss costs one round trip instead of two (read, then `add`).
 * - `acquire`, for refreshes the read did not settle and for raw keys: `mg <lease key> N<ttl> c` on the
 *   core's `leaseKey`, released with `md <lease key> C<cas>` (only the item it won, never a later holder's).
 *   Raw keys never get a placeholder: other clients read them, and would take it for an empty value.
 *
 * A placeholder is never taken for an entry: the core's entries carry its mark in their flags. Clients on
 * another transport (`add`-based leases) see it as a miss and lease on `leaseKey`: a fleet mixing transports
 * over the same keys should set `serverLeases: false` here to keep one factory call per key.
 */
import { type LeasedRead, type LeaseOutcome, type Leases, leaseKey } from '@lovely-memcached/core';
import { KEEP } from '@lovely-memcached/transport-kit';
import type { ExchangeBuilder } from './exchange';
import { itemOf } from './meta-dialect';
import type { Reply } from './reply-reader';

type Answer = { status: 'won'; cas: bigint } | { status: 'held' } | undefined;

/** `mg <key> N<ttl> c`: won (with the lease item's CAS), held, or undefined (no answer: no lease). */
function take(key: string, ttlSeconds: number): ExchangeBuilder<Answer> {
  return (next, lifetime) => {
    const opaque = next();
    return {
      bytes: `mg ${key} N${lifetime(ttlSeconds)} c O${opaque}\r\n`,
      opaque,
      reply(reply) {
        if (reply.code !== 'HD' && reply.code !== 'VA') return undefined;
        if (reply.won === true && reply.cas !== undefined) return { status: 'won', cas: reply.cas };
        // `Z`: another caller won; neither flag: a lease record written with `add` by a client on another
        // transport holds the key.
        return { status: 'held' };
      },
    };
  };
}

function release(key: string, cas: bigint): ExchangeBuilder<boolean> {
  return (next) => {
    const opaque = next();
    return { bytes: `md ${key} C${cas} O${opaque}\r\n`, opaque, reply: (reply) => reply.code === 'HD' };
  };
}

/**
 * `mg <key> v f c N<ttl> [R<stale>]`: the entry, and its lease in the same round trip. memcached answers `W`
 * to exactly one caller when the item is absent (it then holds an empty placeholder, flags 0, for `ttl`
 * seconds: never an entry of ours, whose flags carry the core's mark, so every reader takes it for a miss),
 * when less than `stale` seconds of its life are left (its grace has begun), or when another client marked
 * it stale (`md … I`); `Z` to everyone else until the item is replaced.
 */
function readLeased(
  key: string,
  ttlSeconds: number,
  staleSeconds: number,
  release: (cas: bigint) => Promise<void>,
): ExchangeBuilder<LeasedRead> {
  return (next, lifetime) => {
    const opaque = next();
    // In the gutter (expiry times capped) an item has less life left than its grace from the start: `R` would
    // hand out its refresh on every read. The core's own freshness check refreshes it there instead.
    const recache = staleSeconds >= 1 && lifetime === KEEP ? ` R${staleSeconds}` : '';
    return {
      bytes: `mg ${key} v f c N${lifetime(ttlSeconds)}${recache} O${opaque}\r\n`,
      opaque,
      reply(reply) {
        if (reply.code !== 'VA') return { item: undefined };
        const placeholder = reply.flags === 0 && reply.value?.length === 0;
        // A stale-marked item was invalidated by another client: never served, as our own invalidations.
        const item = placeholder || reply.stale === true ? undefined : itemOf(reply);
        const lease = leaseOf(reply, placeholder, release);
        // A stale-marked item still holds the place: a write after a lease taken beside it is a CAS on it.
        if (reply.stale === true && !placeholder && reply.cas !== undefined) {
          return { item, lease, staleCas: reply.cas };
        }
        return { item, lease };
      },
    };
  };
}

function leaseOf(
  reply: Reply,
  placeholder: boolean,
  release: (cas: bigint) => Promise<void>,
): LeaseOutcome | undefined {
  if (reply.won === true) {
    const { cas } = reply;
    // Only the placeholder needs removing when the factory fails; a recached item is replaced by the write,
    // or, if the refresh fails, keeps being served within its grace.
    // The CAS goes with the lease: the value is written with `ms … C<cas>`, so an invalidation wins.
    if (cas === undefined) return { status: 'won', release: () => Promise.resolve() };
    return placeholder
      ? { status: 'won', cas, release: () => release(cas) }
      : { status: 'won', cas, release: () => Promise.resolve() };
  }
  return reply.held === true || placeholder ? { status: 'held' } : undefined;
}

/** Sends a request for `key` to its server (the transport's own routing, deadline and fallback). */
export type KeyedCall = <T>(
  command: string,
  key: string,
  build: ExchangeBuilder<T>,
  fallback: T,
) => Promise<T>;

export function serverLeases(call: KeyedCall): Leases {
  const releaseEntry = (key: string) => async (cas: bigint) => {
    await call('release', key, release(key, cas), false);
  };
  return {
    readWithLease(memcachedKey, ttlMs, staleSeconds) {
      const ttl = Math.max(1, Math.ceil(ttlMs / 1000));
      return call(
        'get',
        memcachedKey,
        readLeased(memcachedKey, ttl, staleSeconds, releaseEntry(memcachedKey)),
        { item: undefined },
      );
    },
    async acquire(memcachedKey, ttlMs) {
      const key = leaseKey(memcachedKey);
      // memcached counts whole seconds; rounding up keeps the lease for at least the caller's wait.
      const answer = await call('lease', key, take(key, Math.max(1, Math.ceil(ttlMs / 1000))), undefined);
      if (answer === undefined) return { status: 'unavailable' };
      if (answer.status === 'held') return answer;
      return {
        status: 'won',
        async release() {
          await call('release', key, release(key, answer.cas), false);
        },
      };
    },
  };
}
