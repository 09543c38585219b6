/**
 * Reads an entry and checks its dependency tokens: what `query` and `getOrSet` both stand on.
 *
 * An entry whose tokens no longer match (a dependency was invalidated, or its token evicted) is dead: it reads
 * as absent, and is never served, not even as a stale value within grace.
 */
import type { Dependencies } from './dependencies';
import { type DecodedEntry, decodeEntry, type TokenStamp } from './entry-format';
import type { ReadBatcher } from './read-batcher';
import { tokenState } from './token-record';
import type { TransportItem } from './transport';

export function readLiveEntry(
  reads: ReadBatcher,
  dependencies: Dependencies,
  memcachedKey: string,
  raw: boolean,
  namespaceTokenKey?: string,
  /** How the entry itself is read: by default in the batch with the tokens; `getOrSet` may take a lease. */
  fetch?: (memcachedKey: string) => Promise<TransportItem | undefined>,
  /** Told the item read, live or not (`getOrSet` tells an absent entry from a dead one or a placeholder). */
  seen?: { item?: TransportItem },
): Promise<DecodedEntry | undefined> {
  // The tokens this entry had before (or, never seen, its namespace's token) leave in the same multi-get as
  // the entry: one round trip, not two.
  const hint = dependencies.hint(memcachedKey);
  const prefetchKeys = hint ?? (namespaceTokenKey === undefined ? undefined : [namespaceTokenKey]);
  const prefetched = prefetchKeys === undefined ? undefined : reads.getMany(prefetchKeys);
  // Not awaited when the entry turns out to be gone: its failure must not become an unhandled rejection.
  prefetched?.catch(() => {});
  // A `then`, not an async function: an entry without dependencies (the common case) settles in as few
  // microtask turns as the read itself.
  const read = fetch === undefined ? reads.get(memcachedKey) : fetch(memcachedKey);
  return read.then((item) => {
    if (seen !== undefined) seen.item = item;
    const entry = item === undefined ? undefined : decodeEntry(item, raw);
    if (entry === undefined) return undefined;
    if (entry.stamps.length === 0) {
      if (hint !== undefined) dependencies.forget(memcachedKey);
      return entry;
    }
    return checkTokens(reads, dependencies, memcachedKey, entry, hint, prefetchKeys, prefetched);
  });
}

/** The entry if every token it was stamped with is still current, else undefined. */
function checkTokens(
  reads: ReadBatcher,
  dependencies: Dependencies,
  memcachedKey: string,
  entry: DecodedEntry,
  hint: readonly string[] | undefined,
  prefetchKeys: readonly string[] | undefined,
  prefetched: Promise<ReadonlyMap<string, TransportItem>> | undefined,
): DecodedEntry | undefined | Promise<DecodedEntry | undefined> {
  const tokenKeys = tokenKeysOf(entry.stamps);
  // Remembered as this very array (shared by every entry with the same header), even when an equal one is:
  // the queries of one batch then share one read of the tokens (ReadBatcher.getMany).
  if (hint !== tokenKeys) dependencies.remember(memcachedKey, tokenKeys);
  const covered =
    prefetched !== undefined &&
    (prefetchKeys === tokenKeys ||
      (prefetchKeys !== undefined && tokenKeys.every((key) => prefetchKeys.includes(key))));
  if (!covered) return reads.getMany(tokenKeys).then((current) => live(entry, current, dependencies));
  // Usually back already (same batch): checked now, not a microtask turn later.
  const current = reads.settledMany(prefetched);
  if (current !== undefined) return live(entry, current, dependencies);
  return prefetched.then((tokens) => live(entry, tokens, dependencies));
}

function live(
  entry: DecodedEntry,
  current: ReadonlyMap<string, TransportItem>,
  dependencies: Dependencies,
): DecodedEntry | undefined {
  const { stamps } = entry;
  let staleSince: number | undefined;
  for (let i = 0; i < stamps.length; i++) {
    const [tokenKey, token] = stamps[i] as TokenStamp;
    const state = tokenState(current.get(tokenKey), token);
    if (state === true) continue;
    if (state === false) {
      // The token changed (invalidated or evicted): this client's own writes must not reuse the old one.
      dependencies.forgetToken(tokenKey);
      return undefined;
    }
    // Softly invalidated: stale since then (getOrSet may serve it within grace; query misses).
    staleSince = Math.min(staleSince ?? state, state);
  }
  if (staleSince === undefined) return entry;
  // Stale from then on, as if its lifetime had ended: `query` misses, `getOrSet` serves it within grace.
  const freshUntil = Math.min(entry.freshness?.freshUntil ?? Number.POSITIVE_INFINITY, staleSince);
  return { ...entry, freshness: { freshUntil, computeMs: entry.freshness?.computeMs ?? 0 } };
}

/**
 * The token keys of a header, one array per header: entries sharing a header (decodeEntry shares it) share
 * the array, so the hint remembered from one is the very array the next one has, and the checks above are
 * identity checks.
 */
const tokenKeysByHeader = new WeakMap<readonly TokenStamp[], readonly string[]>();

function tokenKeysOf(stamps: readonly TokenStamp[]): readonly string[] {
  let keys = tokenKeysByHeader.get(stamps);
  if (keys === undefined) {
    keys = stamps.map(([tokenKey]) => tokenKey);
    tokenKeysByHeader.set(stamps, keys);
  }
  return keys;
}
