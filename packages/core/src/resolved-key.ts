/**
 * A key as the core works with it: where it lives in memcached, and which tokens its entry carries.
 */
import type { DependencyRecords } from './dependencies';
import type { Namespace } from './key';

/** What a key resolved to: the memcached key, and the canonical text tracking records keep. */
export interface ResolvedKey {
  memcachedKey: string;
  encodedKey: string;
  ns: Namespace;
  /** The namespace's token key (see `invalidateNamespace`), for entries in a namespace. */
  namespaceTokenKey: string | undefined;
}

/**
 * Whether an entry carries its namespace's token: every entry in a namespace does, except a raw value without
 * dependencies, which stays plain bytes any memcached client can read.
 */
export function stampsNamespace(resolved: ResolvedKey, raw: boolean, records: readonly unknown[]): boolean {
  return resolved.namespaceTokenKey !== undefined && (!raw || records.length > 0);
}

/** Where the tokens an entry is stamped with live: its namespace's (when it carries it), its dependencies'. */
export function stampKeys(
  resolved: ResolvedKey,
  records: readonly DependencyRecords[],
  namespaced: boolean,
): readonly string[] {
  const tokenKeys = records.map((record) => record.tokenKey);
  if (namespaced && resolved.namespaceTokenKey !== undefined) tokenKeys.unshift(resolved.namespaceTokenKey);
  // One array per combination: concurrent writes with the same dependencies then share one read of their
  // tokens in a batch (ReadBatcher.getMany shares reads by array), not a waiter per write.
  const id = tokenKeys.join(' ');
  let shared = sharedStampKeys.get(id);
  if (shared === undefined) {
    if (sharedStampKeys.size >= MAX_SHARED_STAMP_KEYS) sharedStampKeys.clear();
    shared = Object.freeze(tokenKeys);
    sharedStampKeys.set(id, shared);
  }
  return shared;
}

const sharedStampKeys = new Map<string, readonly string[]>();
const MAX_SHARED_STAMP_KEYS = 10_000;
