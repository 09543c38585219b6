/**
 * Dependency (tag) invalidation that is never lost.
 *
 * The original kept, per dependency, a list of dependent keys that every `set` read, extended and wrote back:
 * two concurrent writers lose one another's key, and an evicted list forgets every dependent, so `invalidate`
 * silently left stale entries behind. Here (the design Symfony Cache uses for tags):
 *
 * - every dependency has a version record holding a random token;
 * - an entry stores the tokens current when it was written; a query checks them against the current tokens
 *   (one multi-get, batched with concurrent queries) and treats a changed or missing token as a miss;
 * - `invalidate` deletes the token, so everything written before is dead at once, wherever it lives; a token
 *   memcached evicted fails the check the same way, so eviction can only cause misses, never stale reads.
 *
 * A reverse index per dependency, grown with atomic `append` (no read-modify-write), lists the dependents so
 * `invalidate` can also free their memory and `dependents()` can list them. It is an optimisation, not the
 * guarantee: an index lost to eviction only leaves dead entries to expire.
 */
import { randomUUID } from 'node:crypto';
import { appendChunked, readChunks } from './chunked-record';
import { entryStamps, flagsOf, Kind, parseKeyList, type TokenStamp } from './entry-format';
import { hashedKey, type Namespace } from './key';
import type { ReadBatcher } from './read-batcher';
import { currentToken, holdsToken, softReplacement, tokenText } from './token-record';
import type { Transport, TransportItem } from './transport';

const TOKEN_FLAGS = flagsOf(Kind.TOKEN);
const KEY_LIST_FLAGS = flagsOf(Kind.KEY_LIST);
/** An index's chunk this client last appended to, when past the first: later appends start there. */
const MAX_REMEMBERED_CHUNKS = 10_000;
const MAX_TOKEN_HINTS = 10_000;

export { holdsToken, tokenText } from './token-record';

/** The memcached keys of one dependency's records in one namespace. */
export interface DependencyRecords {
  tokenKey: string;
  indexKey: string;
}

/**
 * The token every entry of a namespace carries (beside its dependencies' tokens): deleting it is
 * `invalidateNamespace`, one round trip whatever the number of entries. Its key is known from the namespace
 * alone, so a query fetches it in the same multi-get as the entry.
 */
export function namespaceTokenKey(ns: string): string {
  // `null` is no key, so this three-element form can never be a dependency's (see dependencyRecords).
  return hashedKey('"namespace-token",null', ns);
}

/** What a token looks like (a UUID): anything else read under a token key is damage, never reused. */
const TOKEN = /^[0-9a-f-]{36}$/;
/** How many (dependency, entry) pairs a client remembers having indexed, before it starts over. */
const MAX_REMEMBERED_INDEXED = 100_000;

export function dependencyRecords(encodedDependency: string, ns: Namespace): DependencyRecords {
  // Three-element arrays: no two-element `[ns, key]` of a user's hashed key can encode to the same text.
  return {
    tokenKey: hashedKey(`"dependency-token",${encodedDependency}`, ns),
    indexKey: hashedKey(`"dependents",${encodedDependency}`, ns),
  };
}

/** The entries among `items` whose every dependency token is still current (what `query` would serve). */
export async function withCurrentTokens(
  reads: ReadBatcher,
  items: ReadonlyMap<string, TransportItem>,
): Promise<Set<string>> {
  const stamped = [...items].map(([key, item]) => ({ key, stamps: entryStamps(item) ?? [] }));
  const tokenKeys = [...new Set(stamped.flatMap(({ stamps }) => stamps.map(([tokenKey]) => tokenKey)))];
  const tokens = await reads.getMany(tokenKeys);
  return new Set(
    stamped
      .filter(({ stamps }) => stamps.every(([tokenKey, token]) => holdsToken(tokens.get(tokenKey), token)))
      .map(({ key }) => key),
  );
}

export class Dependencies {
  private readonly currentChunks = new Map<string, number>();
  private readonly compactions = new Map<string, Promise<void>>();
  /**
   * Which token keys an entry carried when this client last wrote or read it. A query fetches those tokens in
   * the same multi-get as the entry, saving the second round trip. Only where the tokens live is remembered,
   * never their values: every check still reads the current tokens from the servers, at the same time as the
   * entry or after it, so an invalidation that finished before the query began is always seen.
   */
  private readonly tokenHints = new Map<string, readonly string[]>();
  private readonly knownTokens = new Map<string, string>();
  /**
   * The entries this client listed in each index, under the token current then: a key set again with the same
   * dependencies is not appended again (which would only add a duplicate line). A new token (an invalidation)
   * starts the list over.
   */
  private readonly indexed = new Map<string, { token: string; keys: Set<string> }>();
  private indexedCount = 0;

  constructor(
    private readonly transport: Transport,
    private readonly reads: ReadBatcher,
  ) {}

  /**
   * The current token under each token key (a dependency's or a namespace's), read from the servers now (in
   * one batched multi-get), the missing ones created. Never answered from memory: a token another client
   * replaced a moment ago would make the write dead on arrival (the guarantee's round 3 defect).
   */
  readStamps(tokenKeys: readonly string[]): Promise<TokenStamp[]> {
    // One waiter for all the keys (read-batcher.ts): at 64 concurrent sets with 3 dependencies, a promise per
    // token showed in the profile.
    return this.reads.getMany(tokenKeys).then((found) => {
      let missing: Array<Promise<TokenStamp>> | undefined;
      const stamps: TokenStamp[] = [];
      for (const tokenKey of tokenKeys) {
        const text = tokenText(found.get(tokenKey));
        const token = text === undefined ? undefined : currentToken(text);
        if (token === undefined) {
          missing ??= [];
          missing.push(this.createToken(tokenKey).then((created) => this.learn(tokenKey, created)));
          stamps.push([tokenKey, '']);
        } else {
          stamps.push([tokenKey, this.learn(tokenKey, { token, stored: true })[1]]);
        }
      }
      if (missing === undefined) return stamps;
      return Promise.all(missing).then((created) => {
        for (const stamp of created) stamps[tokenKeys.indexOf(stamp[0])] = stamp;
        return stamps;
      });
    });
  }

  /**
   * The tokens this client last read or created under every one of `tokenKeys`; undefined when one is not
   * known. Only a guess (see `EntryWriter.set`): it is checked against a read made in the same round trip.
   */
  knownStamps(tokenKeys: readonly string[]): TokenStamp[] | undefined {
    const known: TokenStamp[] = [];
    for (const tokenKey of tokenKeys) {
      const token = this.knownTokens.get(tokenKey);
      if (token === undefined) return undefined;
      known.push([tokenKey, token]);
    }
    return known;
  }

  /** Remembers a token the servers hold as the next write's guess. */
  private learn(tokenKey: string, { token, stored }: { token: string; stored: boolean }): TokenStamp {
    // Only a token the servers hold is worth guessing: one whose creation did not reach them (or bytes that
    // are not a token) would make the next guess wrong every time.
    if (stored && TOKEN.test(token) && this.knownTokens.get(tokenKey) !== token) {
      if (this.knownTokens.size >= MAX_TOKEN_HINTS) this.knownTokens.clear();
      this.knownTokens.set(tokenKey, token);
    }
    return [tokenKey, token];
  }

  /** After a flush: every token this client knew is gone with everything else. */
  forgetAllTokens(): void {
    this.knownTokens.clear();
    this.indexed.clear();
    this.indexedCount = 0;
  }

  /** Stops reusing a token this client found changed. */
  forgetToken(tokenKey: string): void {
    this.knownTokens.delete(tokenKey);
  }

  /** Every entry of the namespace reads as a miss from now on, for every client: one delete. */
  async invalidateNamespace(tokenKey: string): Promise<void> {
    this.knownTokens.delete(tokenKey);
    await this.transport.delete(tokenKey, { urgent: true });
    this.knownTokens.delete(tokenKey);
  }

  private async createToken(tokenKey: string): Promise<{ token: string; stored: boolean }> {
    const token = randomUUID();
    const status = await this.transport.add(tokenKey, Buffer.from(token), { flags: TOKEN_FLAGS });
    if (status !== 'exists') return { token, stored: status === 'stored' };
    // Another writer created it first: theirs is the current one. Should it vanish again before we read it
    // (an invalidation), our own token simply never matches and the entry reads as a miss: safe.
    const text = tokenText(await this.transport.get(tokenKey));
    const theirs = text === undefined ? undefined : currentToken(text);
    return theirs === undefined ? { token, stored: false } : { token: theirs, stored: true };
  }

  /** The token keys to prefetch with `memcachedKey`, if this client has seen its entry before. */
  hint(memcachedKey: string): readonly string[] | undefined {
    return this.tokenHints.get(memcachedKey);
  }

  remember(memcachedKey: string, tokenKeys: readonly string[]): void {
    if (this.tokenHints.size >= MAX_TOKEN_HINTS) this.tokenHints.clear();
    this.tokenHints.set(memcachedKey, tokenKeys);
  }

  forget(memcachedKey: string): void {
    this.tokenHints.delete(memcachedKey);
  }

  /**
   * Lists `memcachedKey` in each dependency's reverse index, unless this client already did under the same
   * token: a key set again with the same dependencies costs no append.
   */
  async index(
    records: readonly DependencyRecords[],
    memcachedKey: string,
    stamps: readonly TokenStamp[],
  ): Promise<void> {
    // The records' stamps are the last ones (a namespace's token may come first).
    const offset = stamps.length - records.length;
    let appends: Array<Promise<void>> | undefined;
    records.forEach((record, i) => {
      const token = stamps[offset + i]?.[1] ?? '';
      if (this.alreadyIndexed(record.indexKey, token, memcachedKey)) return;
      appends ??= [];
      appends.push(this.appendToIndex(record, Buffer.from(`${memcachedKey} `)));
    });
    if (appends !== undefined) await Promise.all(appends);
  }

  private alreadyIndexed(indexKey: string, token: string, memcachedKey: string): boolean {
    let listed = this.indexed.get(indexKey);
    if (listed?.keys.has(memcachedKey) === true && listed.token === token) return true;
    if (this.indexedCount >= MAX_REMEMBERED_INDEXED) {
      this.indexed.clear();
      this.indexedCount = 0;
      listed = undefined;
    }
    if (listed === undefined || listed.token !== token) {
      this.indexedCount -= listed?.keys.size ?? 0;
      listed = { token, keys: new Set() };
      this.indexed.set(indexKey, listed);
    }
    listed.keys.add(memcachedKey);
    this.indexedCount++;
    return false;
  }

  private async appendToIndex({ indexKey, tokenKey }: DependencyRecords, line: Uint8Array): Promise<void> {
    const start = this.currentChunks.get(indexKey) ?? 0;
    // A full chunk is compacted (duplicates and entries no longer tied dropped); if it stays full, the line
    // goes to the next chunk: no dependent is ever dropped at the item size limit. There is no routine
    // compaction: reading a large index on every Nth write would make a write's cost grow with the index.
    const { chunk } = await appendChunked(this.transport, indexKey, line, KEY_LIST_FLAGS, start, (key) =>
      this.compactIndex(key, tokenKey),
    );
    if (chunk !== start) {
      if (this.currentChunks.size >= MAX_REMEMBERED_CHUNKS) this.currentChunks.clear();
      this.currentChunks.set(indexKey, chunk);
    }
  }

  /**
   * Rewrites a full index chunk without duplicates and without entries that are gone or no longer carry the
   * dependency, only if nobody appended meanwhile (CAS).
   */
  private compactIndex(key: string, tokenKey: string): Promise<void> {
    // Concurrent writes that all find the chunk full share one compaction: each would read every listed entry.
    let running = this.compactions.get(key);
    if (running === undefined) {
      running = this.compactIndexNow(key, tokenKey).finally(() => this.compactions.delete(key));
      this.compactions.set(key, running);
    }
    return running;
  }

  private async compactIndexNow(key: string, tokenKey: string): Promise<void> {
    if (this.transport.cas === undefined) return;
    const item = await this.transport.get(key);
    if (item?.cas === undefined) return;
    const kept = await this.stillTied(parseKeyList(item.value), tokenKey);
    const compacted = Buffer.from(kept.map((listedKey) => `${listedKey} `).join(''));
    if (compacted.length < item.value.length) {
      await this.transport.cas(key, compacted, item.cas, { flags: KEY_LIST_FLAGS });
    }
  }

  /**
   * The memcached keys tied to a dependency: listed in its reverse index, and whose entry still carries its
   * token (an entry set again without the dependency, or gone, is listed but no longer a dependent).
   */
  async dependents(records: DependencyRecords): Promise<string[]> {
    const chunks = await readChunks(this.reads, records.indexKey);
    return this.stillTied(listedKeys(chunks), records.tokenKey);
  }

  private async stillTied(listed: readonly string[], tokenKey: string): Promise<string[]> {
    const entries = await this.reads.getMany(listed);
    return listed.filter((key) => {
      const entry = entries.get(key);
      return entry !== undefined && entryStamps(entry)?.some(([stamped]) => stamped === tokenKey) === true;
    });
  }

  /**
   * Soft invalidation (`soft: true`): each token is replaced by a new one that remembers it and when, so the
   * entries stamped with it turn stale instead of dead (token-record.ts); they stay, and are not freed. A token
   * nothing is tied to is left as it is; a replacement that loses a race to another writer falls back to the
   * hard invalidation (deleting the token): never less than asked.
   */
  async softInvalidate(tokenKeys: readonly string[], atMs: number): Promise<void> {
    for (const tokenKey of tokenKeys) this.knownTokens.delete(tokenKey);
    await Promise.all(
      tokenKeys.map(async (tokenKey) => {
        const item = await this.transport.get(tokenKey);
        const text = tokenText(item);
        if (item === undefined || text === undefined) return;
        const replacement = Buffer.from(softReplacement(randomUUID(), text, atMs));
        const options = { flags: TOKEN_FLAGS };
        const status =
          item.cas !== undefined && this.transport.cas !== undefined
            ? await this.transport.cas(tokenKey, replacement, item.cas, options)
            : await this.transport.set(tokenKey, replacement, options);
        if (status !== 'stored') await this.transport.delete(tokenKey, { urgent: true });
      }),
    );
    for (const tokenKey of tokenKeys) this.knownTokens.delete(tokenKey);
  }

  async invalidate(records: readonly DependencyRecords[]): Promise<void> {
    for (const { tokenKey } of records) this.knownTokens.delete(tokenKey);
    await Promise.all(
      records.flatMap((record) => [
        // Dropping the token is what makes every earlier entry read as a miss, on any server, at once; the next
        // writer creates a fresh one. (Deleting, not overwriting: a dependency nothing is tied to stays as it was.)
        this.transport.delete(record.tokenKey, { urgent: true }),
        this.freeDependents(record),
      ]),
    );
  }

  /**
   * Frees the memory of the entries tied to the dependency. Only entries that still carry its token key are
   * deleted: one set again without it (or with other dependencies) is no dependent any more and stays. (A
   * write landing between this read and the delete can lose its entry: a miss, never a stale read.)
   */
  private async freeDependents({ tokenKey, indexKey }: DependencyRecords): Promise<void> {
    this.currentChunks.delete(indexKey);
    const chunks = await readChunks(this.reads, indexKey);
    if (chunks.length === 0) return;
    await Promise.all(chunks.map(({ key }) => this.transport.delete(key)));
    const tied = await this.stillTied(listedKeys(chunks), tokenKey);
    if (this.transport.deleteMany !== undefined) await this.transport.deleteMany(tied);
    else await Promise.all(tied.map((key) => this.transport.delete(key)));
  }
}

function listedKeys(chunks: ReadonlyArray<{ item: TransportItem }>): string[] {
  // One chunk (up to ~30,000 keys) is already a list of distinct keys.
  if (chunks.length === 1) return parseKeyList((chunks[0] as { item: TransportItem }).item.value);
  return [...new Set(chunks.flatMap(({ item }) => parseKeyList(item.value)))];
}
