/**
 * The invalidations this client issued, in call order: so that a write it issued before one of them never
 * lands after it ("writes of one client land in the order they were issued").
 *
 * A `set` whose tokens must be read first, or whose guessed tokens must be rewritten, writes a round trip after
 * it was issued; an `invalidate`, `invalidateNamespace` or `invalidateAll` this client issued in between goes out
 * at once. Before such a late write, the writer asks whether an invalidation issued since covers its entry (its
 * key, one of its token keys, or everything): then the write is left out, as if it had landed and been removed.
 */
import { nextCallOrder } from './call-order';

interface Recorded {
  order: number;
  /** undefined: everything (`invalidateAll`). */
  memcachedKey?: string | undefined;
  tokenKeys?: readonly string[];
  all?: boolean;
}

/** Invalidations remembered; a write older than the oldest remembered one is taken as covered. */
const CAPACITY = 1024;

export class InvalidationLog {
  private readonly recorded: Recorded[] = [];
  /** The order before which invalidations were forgotten. */
  private forgottenBefore = 0;

  /** Records an invalidation as it is issued (before its first request goes out). */
  record(memcachedKey: string | undefined, tokenKeys: readonly string[]): void {
    this.push({ order: nextCallOrder(), memcachedKey, tokenKeys });
  }

  recordAll(): void {
    this.push({ order: nextCallOrder(), all: true });
  }

  /** Whether an invalidation issued after `since` covers an entry under `memcachedKey` stamped with `tokenKeys`. */
  coveredSince(since: number, memcachedKey: string, tokenKeys: readonly string[]): boolean {
    if (since < this.forgottenBefore) return true;
    const { recorded } = this;
    for (let i = recorded.length - 1; i >= 0; i--) {
      const invalidation = recorded[i] as Recorded;
      if (invalidation.order <= since) return false;
      if (invalidation.all === true || invalidation.memcachedKey === memcachedKey) return true;
      if (invalidation.tokenKeys?.some((tokenKey) => tokenKeys.includes(tokenKey)) === true) return true;
    }
    return false;
  }

  private push(invalidation: Recorded): void {
    if (this.recorded.length >= CAPACITY) {
      const dropped = this.recorded.splice(0, CAPACITY / 2);
      this.forgottenBefore = (dropped[dropped.length - 1] as Recorded).order + 1;
    }
    this.recorded.push(invalidation);
  }
}
