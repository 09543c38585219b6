/**
 * Read-through leases kept by memcached itself: `mg <lease key> N<ttl> c` creates an empty item on a miss
 * and answers `W` (you won: compute) to exactly one caller; while that item lives, every other caller gets `Z`
 * (someone else computes). The winner releases with `md <lease key> C<cas>`, which deletes the item only if it
 * is still the one it won, never a later holder's.
 *
 * Why the lease lives on its own key (core's `leaseKey`, the key `add`-based leases use) and not on the entry's:
 * a vivified item is an empty value with flags 0, and every reader that is not asking for a lease sees it as an
 * item — `get` through any client, the memjs transport's too. Under a raw key that is plain text: the core
 * would serve `''` as the cached value while the winner computes. On the lease key nobody reads it as a value,
 * and clients on other transports agree on who computes: their `add` finds our lease item present (held), our
 * `mg … N` finds their lease record present (held, without `W`).
 *
 * Against `add`-based leases (which must write an owner token and, to release, read it back before deleting),
 * a lease costs one round trip to take (the same) and one to release (instead of two).
 */
import { type Leases, leaseKey } from '@lovely-memcached/core';
import type { ExchangeBuilder } from './exchange';

type Answer = { status: 'won'; cas: bigint } | { status: 'held' } | undefined;

/** `mg <key> N<ttl> c`: won (with the lease item's CAS), held, or undefined (no answer: no lease). */
function take(key: string, ttlSeconds: number): ExchangeBuilder<Answer> {
  return (next) => {
    const opaque = next();
    return {
      bytes: `mg ${key} N${ttlSeconds} c O${opaque}\r\n`,
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

/** Sends a request for `key` to its server (the transport's own routing, deadline and fallback). */
export type KeyedCall = <T>(
  command: string,
  key: string,
  build: ExchangeBuilder<T>,
  fallback: T,
) => Promise<T>;

export function serverLeases(call: KeyedCall): Leases {
  return {
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
