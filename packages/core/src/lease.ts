/**
 * Leases: who, among every client and process sharing the servers, computes a key's value.
 *
 * A lease is held in memcached so processes see each other's: `add` is atomic, so exactly one caller creates
 * the lease record and wins; it expires by itself, so a holder that dies frees the key after at most the
 * lease's lifetime. The interface is small on purpose: a transport with server-side leases (memcached's meta
 * `mg … N`) can offer its own through `Transport.leases`.
 */
import { randomUUID } from 'node:crypto';
import { flagsOf, Kind } from './entry-format';
import { hashedKey } from './key';
import type { Transport } from './transport';

/**
 * - `won`: this caller computes; `release()` once the value is stored (or the factory failed);
 * - `held`: someone else computes: wait for the value;
 * - `unavailable`: the lease's server cannot be reached: compute without one (never wait on a down server).
 */
export type LeaseOutcome =
  | { status: 'won'; release(): Promise<void> }
  | { status: 'held' }
  | { status: 'unavailable' };

export interface Leases {
  /** Tries to take the lease on `memcachedKey` for `ttlMs` milliseconds. */
  acquire(memcachedKey: string, ttlMs: number): Promise<LeaseOutcome>;
}

const LEASE_FLAGS = flagsOf(Kind.LEASE);

/** The lease record of an entry: its own hashed key, so it routes like any key and never collides with one. */
export function leaseKey(memcachedKey: string): string {
  return hashedKey(`"lease",${JSON.stringify(memcachedKey)}`, null);
}

/** Leases built on memcached's atomic `add`, for every transport. */
export function addLeases(transport: Transport): Leases {
  return {
    async acquire(memcachedKey, ttlMs) {
      const key = leaseKey(memcachedKey);
      const owner = randomUUID();
      // memcached counts whole seconds; rounding up keeps the lease for at least the caller's wait.
      const status = await transport.add(key, Buffer.from(owner), {
        flags: LEASE_FLAGS,
        exptime: Math.max(1, Math.ceil(ttlMs / 1000)),
      });
      if (status === 'exists') return { status: 'held' };
      if (status !== 'stored') return { status: 'unavailable' };
      return {
        status: 'won',
        async release() {
          // Only our own lease: one that expired and was taken by another caller is theirs to release.
          const current = await transport.get(key);
          if (current !== undefined && Buffer.from(current.value).toString('latin1') === owner) {
            await transport.delete(key);
          }
        },
      };
    },
  };
}
