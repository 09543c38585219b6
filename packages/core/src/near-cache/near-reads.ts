/**
 * `query` and `getOrSet` through L1: a copy young enough (and fresh) is answered at once, without a round trip;
 * otherwise one read of the key shared by every concurrent caller, kept in L1 (near-cache.ts says when not).
 */
import type { Dependencies } from '../dependencies';
import type { DecodedEntry } from '../entry-format';
import { isFresh } from '../freshness';
import { readLiveEntry } from '../live-entry';
import type { ReadBatcher } from '../read-batcher';
import type { OperationContext } from '../tracing';
import type { NearCache } from './near-cache';

export interface NearRead {
  l1: NearCache;
  reads: ReadBatcher;
  dependencies: Dependencies;
  memcachedKey: string;
  namespaceTokenKey: string | undefined;
  raw: boolean;
  context: OperationContext | undefined;
}

/** The copy's value when L1 answers (counted, and told to the tracing context), else undefined and a miss. */
function fromCopy(read: NearRead, readThrough: boolean): { value: unknown } | undefined {
  const { l1, context } = read;
  const copy = l1.fresh(read.memcachedKey, read.raw);
  if (copy === undefined) {
    l1.misses++;
    if (context !== undefined) context.l1 = l1.traceInfo(false);
    return undefined;
  }
  l1.hits++;
  if (context !== undefined) {
    context.hit = true;
    if (readThrough) context.stale = false;
    context.l1 = l1.traceInfo(true);
  }
  return copy;
}

function shared({ l1, reads, dependencies, memcachedKey, namespaceTokenKey, raw }: NearRead) {
  return l1.read(memcachedKey, raw, (seen) =>
    readLiveEntry(reads, dependencies, memcachedKey, raw, namespaceTokenKey, undefined, seen),
  );
}

/** `query`: the value, or `fallback` on a miss (a read-through entry past its lifetime is one). */
export function nearQuery<T>(
  read: NearRead,
  fallback: T | undefined,
  now: () => number,
): Promise<T | undefined> {
  const copy = fromCopy(read, false);
  if (copy !== undefined) return Promise.resolve(copy.value as T);
  return shared(read).then((entry: DecodedEntry | undefined) => {
    const hit = entry !== undefined && (entry.freshness === undefined || isFresh(entry.freshness, now()));
    if (read.context !== undefined) read.context.hit = hit;
    return hit ? (entry.value as T) : fallback;
  });
}

/** `getOrSet`: the value of a fresh entry, else what the read-through call (`run`) gives. */
export function nearGetOrSet<T>(read: NearRead, run: () => Promise<T>, now: () => number): Promise<T> {
  const copy = fromCopy(read, true);
  if (copy !== undefined) return Promise.resolve(copy.value as T);
  return shared(read).then((entry: DecodedEntry | undefined) => {
    if (entry === undefined || !isFresh(entry.freshness, now())) return run();
    if (read.context !== undefined) {
      read.context.hit = true;
      read.context.stale = false;
    }
    return entry.value as T;
  });
}
