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
import type { LeaseOutcome, Leases, Transport, TransportItem } from './transport';

export type { LeasedRead, LeaseOutcome, Leases } from './transport';

const LEASE_FLAGS = flagsOf(Kind.LEASE);

/** The lease record of an entry: its own hashed key, so it routes like any key and never collides with one. */
export function leaseKey(memcachedKey: string): string {
  return hashedKey(`"lease",${JSON.stringify(memcachedKey)}`, null);
}

/**
 * A lease taken with `add` of `value` (atomic in memcached: one caller creates it), kept `ttlMs` rounded up to
 * the whole seconds memcached counts; released by deleting it if `stillOurs` says the item is the one won.
 */
async function addLease(
  transport: Transport,
  key: string,
  value: Uint8Array,
  flags: number,
  ttlMs: number,
  stillOurs: (item: TransportItem) => boolean,
): Promise<LeaseOutcome> {
  const status = await transport.add(key, value, { flags, exptime: Math.max(1, Math.ceil(ttlMs / 1000)) });
  if (status === 'exists') return { status: 'held' };
  if (status !== 'stored') return { status: 'unavailable' };
  return {
    status: 'won',
    async release() {
      const current = await transport.get(key);
      if (current !== undefined && stillOurs(current)) await transport.delete(key);
    },
  };
}

/** Leases built on memcached's atomic `add`, for every transport: a record of its own beside the entry. */
export function addLeases(transport: Transport): Leases {
  return {
    acquire(memcachedKey, ttlMs) {
      const owner = randomUUID();
      // Released only if still ours: one that expired and was taken by another caller is theirs to release.
      return addLease(transport, leaseKey(memcachedKey), Buffer.from(owner), LEASE_FLAGS, ttlMs, (item) => {
        return Buffer.from(item.value).toString('latin1') === owner;
      });
    },
  };
}

/**
 * An empty item in an entry's place: a lease on an absent entry, as memcached's `mg … N` leaves it (flags 0)
 * and `takePlaceholder` writes it. Never one of the core's entries, whose flags carry its mark. A raw key's
 * placeholder carries the lease mark instead: an empty raw value with flags 0 is a value (another client's, or
 * a raw `set` of ''), and our own raw reads take the marked one for a miss.
 */
export function isPlaceholder(item: TransportItem, raw = false): boolean {
  return item.value.length === 0 && item.flags === (raw ? LEASE_FLAGS : 0);
}

/**
 * The lease on an absent entry, taken with `add` of a placeholder on the entry's own key: the same item a
 * server-side lease (`mg … N`) creates, so clients on either kind of lease agree on who computes. The lease
 * carries the placeholder's CAS: the value is written with a CAS against it, so an invalidation that deleted
 * it meanwhile wins. A winner without a value (its factory failed) removes it.
 */
export async function takePlaceholder(
  transport: Transport,
  memcachedKey: string,
  ttlMs: number,
  raw = false,
): Promise<LeaseOutcome> {
  const lease = await addLease(
    transport,
    memcachedKey,
    new Uint8Array(0),
    raw ? LEASE_FLAGS : 0,
    ttlMs,
    (item) => isPlaceholder(item, raw),
  );
  if (lease.status !== 'won') return lease;
  // `add` does not tell the item's CAS: read it back. Gone already (an invalidation, a flush) or replaced,
  // the CAS read is whatever holds the place now: what the write must not overwrite unseen.
  const placed = await transport.get(memcachedKey);
  return placed?.cas === undefined ? lease : { ...lease, cas: placed.cas };
}

/**
 * The CAS of the item holding an entry's place, a placeholder taken first where the place is empty: what a
 * read-through write computed from now on is conditional on. Undefined when the server cannot be reached.
 */
export async function holdPlace(
  transport: Transport,
  memcachedKey: string,
  ttlMs: number,
  raw: boolean,
): Promise<bigint | undefined> {
  const lease = await takePlaceholder(transport, memcachedKey, ttlMs, raw);
  if (lease.status === 'won') return lease.cas;
  if (lease.status === 'unavailable') return undefined;
  return (await transport.get(memcachedKey))?.cas;
}
