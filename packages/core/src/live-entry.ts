/**
 * Reads an entry and checks its dependency tokens: what `query` and `getOrSet` both stand on.
 *
 * An entry whose tokens no longer match (a dependency was invalidated, or its token evicted) is dead: it reads
 * as absent, and is never served, not even as a stale value within grace.
 */
import { type Dependencies, tokenText } from './dependencies';
import { type DecodedEntry, decodeEntry } from './entry-format';
import type { ReadBatcher } from './read-batcher';

export async function readLiveEntry(
  reads: ReadBatcher,
  dependencies: Dependencies,
  memcachedKey: string,
  raw: boolean,
): Promise<DecodedEntry | undefined> {
  // Tokens this entry had before leave in the same multi-get as the entry: one round trip, not two.
  const hint = dependencies.hint(memcachedKey);
  const prefetched = hint === undefined ? undefined : reads.getMany(hint);
  // Not awaited when the entry turns out to be gone: its failure must not become an unhandled rejection.
  prefetched?.catch(() => {});
  const item = await reads.get(memcachedKey);
  const entry = item === undefined ? undefined : decodeEntry(item, raw);
  if (entry === undefined) return undefined;
  if (entry.stamps.length === 0) {
    if (hint !== undefined) dependencies.forget(memcachedKey);
    return entry;
  }
  const tokenKeys = entry.stamps.map(([tokenKey]) => tokenKey);
  const hinted = prefetched !== undefined && sameKeys(hint, tokenKeys);
  if (!hinted) dependencies.remember(memcachedKey, tokenKeys);
  const current = await (hinted ? prefetched : reads.getMany(tokenKeys));
  for (const [tokenKey, token] of entry.stamps) {
    if (tokenText(current.get(tokenKey)) !== token) return undefined;
  }
  return entry;
}

function sameKeys(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((key, i) => key === b[i]);
}
