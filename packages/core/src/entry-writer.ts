/**
 * Writing entries: a value encoded, stamped with its dependency tokens, sized, and stored with its index lines
 * and tracking record.
 *
 * Two kinds of write, each keeping the guarantee ("a value written before an invalidation is never served after
 * it; a write after an invalidation is stored; one client's writes land in the order issued"):
 * - `set`: stamped with the tokens this client last knew (a guess) while the current ones are read in the same
 *   round trip. A guess that was right costs nothing more; a wrong one (another client invalidated meanwhile)
 *   left a dead entry, which is rewritten with the current tokens only if it is still exactly what this write
 *   stored (a CAS on the item read back): a later write or an invalidation of the key is never overwritten.
 * - `writeIf`: read-through's write, a CAS against the item that held the entry's place before the factory
 *   started (memcached's leases, NSDI'13): an invalidation of the key in between deletes that item, and the
 *   computed value is then returned to its callers but never stored.
 */

import { nextCallOrder } from './call-order';
import type { ResolvedCompression } from './compression';
import type { Dependencies, DependencyRecords } from './dependencies';
import { describeValue } from './describe-value';
import {
  compressBody,
  type EncodedBody,
  type EncodedEntry,
  encodeBody,
  encodeEntry,
  Kind,
  PLAIN_TEXT_FLAGS,
  type TokenStamp,
} from './entry-format';
import { InvalidValueError } from './errors';
import type { Freshness } from './freshness';
import type { InvalidationLog } from './invalidation-log';
import type { KeyTracker } from './key-tracking';
import { type ResolvedKey, stampKeys } from './resolved-key';
import { MEMCACHED_ITEM_OVERHEAD, type StoreStatus, type Transport } from './transport';

export class EntryWriter {
  constructor(
    private readonly transport: Transport,
    private readonly dependencies: Dependencies,
    private readonly tracker: KeyTracker | undefined,
    private readonly compression: ResolvedCompression | undefined,
    private readonly invalidations: InvalidationLog,
  ) {}

  /**
   * A value as bytes, compressed where the settings say so. A raw value without dependencies stays its plain
   * bytes for other clients to read; compression comes before the size check, so a value over the item limit
   * that compresses under it is stored.
   */
  encode(value: unknown, raw: boolean, records: readonly DependencyRecords[]): EncodedBody {
    const body = encodeBody(value, raw);
    if (!raw) return compressBody(body, this.compression);
    if (records.length === 0) return body;
    // With dependencies a raw string is stored in our format (as text), so it may be compressed too.
    const text = body.kind === PLAIN_TEXT_FLAGS ? { body: body.body, kind: Kind.TEXT } : body;
    return compressBody(text, this.compression);
  }

  /** `set`'s write; the memcached key, or `null` when no server took it. */
  async set(
    resolved: ResolvedKey,
    body: EncodedBody,
    records: readonly DependencyRecords[],
    namespaced: boolean,
    exptime: number,
  ): Promise<string | null> {
    const tokenKeys = stampKeys(resolved, records, namespaced);
    if (tokenKeys.length === 0)
      return keyIfStored(resolved, await this.store(resolved, body, [], exptime, records));
    const { dependencies, invalidations } = this;
    const issued = nextCallOrder();
    // Read in the same round trip as the write, and issued after it: an invalidation that resolved before
    // this `set` was called is seen here.
    const current = dependencies.readStamps(tokenKeys);
    const guess = dependencies.knownStamps(tokenKeys);
    if (guess === undefined) {
      const stamps = await current;
      // This client invalidated the entry after issuing this write: it landed, and is gone (in call order).
      if (invalidations.coveredSince(issued, resolved.memcachedKey, tokenKeys)) return resolved.memcachedKey;
      return keyIfStored(resolved, await this.store(resolved, body, stamps, exptime, records));
    }
    const entry = this.entry(resolved, body, guess, undefined);
    const [status, stamps] = await Promise.all([
      this.storeEntry(resolved, entry, guess, exptime, records, undefined),
      current,
    ]);
    if (status !== 'stored' || sameTokens(guess, stamps)) return keyIfStored(resolved, status);
    if (invalidations.coveredSince(issued, resolved.memcachedKey, tokenKeys)) return resolved.memcachedKey;
    // The guess was stale: what was written is dead. Rewritten only if still exactly ours.
    const placed = await this.transport.get(resolved.memcachedKey);
    if (
      placed === undefined ||
      placed.flags !== entry.flags ||
      !Buffer.from(placed.value).equals(Buffer.from(entry.bytes))
    ) {
      return resolved.memcachedKey; // a later write or an invalidation stands
    }
    const rewrite = this.entry(resolved, body, stamps, undefined);
    await this.storeEntry(resolved, rewrite, stamps, exptime, records, placed.cas ?? UNCONDITIONAL);
    return resolved.memcachedKey;
  }

  /**
   * Read-through's write: a CAS against `cas`, the item that held the entry's place before the factory ran.
   * `UNCONDITIONAL` only where the transport has no CAS at all (documented: the guarantee needs one).
   */
  writeIf(
    resolved: ResolvedKey,
    body: EncodedBody,
    stamps: readonly TokenStamp[],
    exptime: number,
    freshness: Freshness,
    records: readonly DependencyRecords[],
    cas: bigint | typeof UNCONDITIONAL,
  ): Promise<StoreStatus> {
    const entry = this.entry(resolved, body, stamps, freshness);
    return this.storeEntry(resolved, entry, stamps, exptime, records, cas);
  }

  /** Whether this transport can make writes conditional (every bundled one can). */
  get conditional(): boolean {
    return this.transport.cas !== undefined;
  }

  private store(
    resolved: ResolvedKey,
    body: EncodedBody,
    stamps: readonly TokenStamp[],
    exptime: number,
    records: readonly DependencyRecords[],
  ): Promise<StoreStatus> {
    return this.storeEntry(
      resolved,
      this.entry(resolved, body, stamps, undefined),
      stamps,
      exptime,
      records,
      undefined,
    );
  }

  private entry(
    resolved: ResolvedKey,
    body: EncodedBody,
    stamps: readonly TokenStamp[],
    freshness: Freshness | undefined,
  ): EncodedEntry {
    const entry = encodeEntry(body, stamps, freshness);
    // Checked again with the headers in: stamps add a few dozen bytes per dependency.
    this.checkSize(entry.bytes.length, resolved.memcachedKey);
    return entry;
  }

  /**
   * Writes an encoded entry: a plain `set` (`cas` undefined), or a CAS. The index appends and the tracking
   * record travel with it (one round trip): the index only frees memory and lists dependents; the guarantee
   * rests on the stamps, taken before.
   */
  private async storeEntry(
    resolved: ResolvedKey,
    entry: EncodedEntry,
    stamps: readonly TokenStamp[],
    exptime: number,
    records: readonly DependencyRecords[],
    cas: bigint | typeof UNCONDITIONAL | undefined,
  ): Promise<StoreStatus> {
    const { transport, dependencies, tracker } = this;
    const { memcachedKey } = resolved;
    if (stamps.length === 0) dependencies.forget(memcachedKey);
    else
      dependencies.remember(
        memcachedKey,
        stamps.map(([tokenKey]) => tokenKey),
      );
    const options = { flags: entry.flags, exptime };
    const write =
      cas === undefined || cas === UNCONDITIONAL || transport.cas === undefined
        ? transport.set(memcachedKey, entry.bytes, options)
        : transport.cas(memcachedKey, entry.bytes, cas, options);
    const [status] = await Promise.all([
      write,
      records.length > 0 && dependencies.index(records, memcachedKey, stamps),
      tracker?.track(memcachedKey, resolved.ns, resolved.encodedKey),
    ]);
    if (status === 'too-large') throw this.tooLarge(entry.bytes.length, memcachedKey);
    return status;
  }

  /** Refuses what memcached would refuse, before anything is written (bookkeeping included). */
  checkSize(size: number, memcachedKey: string): void {
    const { maxItemSize } = this.transport.capabilities;
    if (size + memcachedKey.length + MEMCACHED_ITEM_OVERHEAD > maxItemSize)
      throw this.tooLarge(size, memcachedKey);
  }

  private tooLarge(size: number, memcachedKey: string): InvalidValueError {
    const limit = this.transport.capabilities.maxItemSize;
    return new InvalidValueError(
      'ERR_VALUE_TOO_LARGE',
      `value of ${size} bytes for key ${describeValue(memcachedKey)} exceeds the server's item size limit (${limit} bytes for key, value and ${MEMCACHED_ITEM_OVERHEAD} bytes of item header): store less, or raise memcached's -I limit`,
      { context: { key: memcachedKey, size, limit } },
    );
  }
}

/** A read-through write without a condition: only where the transport has no CAS. */
export const UNCONDITIONAL = Symbol('unconditional');

function keyIfStored(resolved: ResolvedKey, status: StoreStatus): string | null {
  return status === 'stored' ? resolved.memcachedKey : null;
}

function sameTokens(guess: readonly TokenStamp[], current: readonly TokenStamp[]): boolean {
  for (let i = 0; i < guess.length; i++) {
    if (guess[i]?.[1] !== current[i]?.[1]) return false;
  }
  return true;
}
