/**
 * Key tracking shared by every client and process on the same servers.
 *
 * memcached cannot list its keys, so tracking clients record what they store: each client (uid) appends one
 * line per `set` to its own record, with atomic `append` (no read-modify-write, so concurrent writers never
 * lose lines), and registers its uid once in a shared registry. `keys(ns)` reads the registry and every
 * record, then asks the servers which of the recorded entries still exist: expired, invalidated, evicted and
 * flushed keys drop out because their entries are gone, whatever the records say.
 *
 * Records would grow with every `set`; they are compacted (duplicates and dead entries dropped) with CAS, so a
 * compaction never erases a line appended while it ran, and a record that stays full rolls over to its next
 * chunk (chunked-record.ts), so no live key is lost at the item size limit.
 *
 * Unreachable is not absent: an entry whose server (or one of whose dependency tokens' servers) the transport
 * reports unreachable is neither listed by `keys()` nor taken for dead, so no compaction drops its line while
 * the outage lasts. Without the transport's `reachable` nothing can be told apart, and compaction only drops
 * duplicate lines.
 */

import { appendOrCreate } from './append-record';
import { appendChunked, chunkKey, readChunks } from './chunked-record';
import { withCurrentTokens } from './dependencies';
import { entryStamps, flagsOf, Kind } from './entry-format';
import { decodeKey, isMemcachedKey, type Key, type Namespace } from './key';
import type { ReadBatcher } from './read-batcher';
import type { Transport, TransportItem } from './transport';

const REGISTRY_KEY = 'lovely-memcached:tracking:uids';
const RECORD_PREFIX = 'lovely-memcached:tracking:';
const REGISTRY_FLAGS = flagsOf(Kind.REGISTRY);
const RECORD_FLAGS = flagsOf(Kind.TRACKING);
/**
 * A client compacts the chunk of its own record it writes to after this many lines appended, and once the
 * bytes appended since its last compaction reach OWN_GROWTH times what that compaction left. Compacting reads
 * the chunk and checks every entry it lists, so a fixed interval made a chunk of n live lines cost n / 1000
 * entry reads per `set` (up to ~19 with a full chunk of unique keys); growing with the chunk, it costs at most
 * (1 + OWN_GROWTH) / OWN_GROWTH, and the chunk stays within 1 + OWN_GROWTH times what compaction leaves of it
 * (or COMPACT_OWN_EVERY lines more).
 */
const COMPACT_OWN_EVERY = 1000;
const OWN_GROWTH = 2;
/**
 * At most this many characters of lines per append (UTF-16 units, under 48 KiB), and at most a sixteenth of the
 * transport's item size limit: a turn's lines go out together, but never in an append a chunk could not take
 * (a batch larger than the limit would fit no chunk, and its lines would be lost), and a chunk is left at most
 * that much short of full. A line longer than that goes alone, as every line did.
 */
const MAX_APPEND_CHARS = 16 * 1024;
const APPEND_SHARE_OF_ITEM = 16;
/** `keys()` compacts a record when at least this share of its lines is garbage (and it has a few lines). */
const GARBAGE_SHARE = 0.5;
const MIN_LINES_TO_COMPACT = 16;
/** How often, at most, a tracking client that keeps writing checks that the registry still lists it. */
const REGISTRY_CHECK_MS = 1000;

const textDecoder = new TextDecoder();
const UID = /^[0-9a-f-]{36}$/;

interface TrackedLine {
  memcachedKey: string;
  ns: Namespace;
  /** The key's canonical encoding (see `encodeKey`). */
  key: string;
  text: string;
}

function parseLines(item: TransportItem | undefined): TrackedLine[] {
  if (item === undefined) return [];
  const lines: TrackedLine[] = [];
  for (const text of textDecoder.decode(item.value).split('\n')) {
    if (text === '') continue;
    try {
      const [memcachedKey, ns, key] = JSON.parse(text) as [unknown, unknown, unknown];
      if (
        typeof memcachedKey === 'string' &&
        isMemcachedKey(memcachedKey) &&
        (ns === null || typeof ns === 'string')
      ) {
        lines.push({ memcachedKey, ns, key: JSON.stringify(key), text });
      }
    } catch {
      // A torn or foreign line: skip it, the rest of the record is still good.
    }
  }
  return lines;
}

/** The last line per memcached key: a key set again (maybe in another namespace) counts once. */
function latestLines(lines: readonly TrackedLine[]): Map<string, TrackedLine> {
  const latest = new Map<string, TrackedLine>();
  for (const line of lines) {
    latest.delete(line.memcachedKey);
    latest.set(line.memcachedKey, line);
  }
  return latest;
}

export class KeyTracker {
  private readonly recordKey: string;
  /** The chunk of our record that took the last line: appends start there (see chunked-record.ts). */
  private chunk = 0;
  private linesSinceCompaction = 0;
  private bytesSinceCompaction = 0;
  /** The size of our chunk when last compacted (read after the compaction; 0 for a chunk new to us). */
  private compactedBytes = 0;
  /** The lines tracked this turn, not yet sent, and the promise of their append (see `track`). */
  private pending: { lines: string[]; written: Promise<void> } | undefined;
  private registryCheckedAt = Number.NEGATIVE_INFINITY;
  private readonly compactions = new Map<string, Promise<void>>();

  constructor(
    private readonly transport: Transport,
    private readonly reads: ReadBatcher,
    private readonly uid: string,
    private readonly now: () => number,
  ) {
    this.recordKey = RECORD_PREFIX + uid;
  }

  /**
   * Records that `memcachedKey` (original key `encodedKey`, in `ns`) was stored; resolves once the line is in
   * our record. The lines of every `set` made in the same turn go out as one append (batched on a microtask,
   * like the read batcher): 64 concurrent sets made 64 appends, each copying the whole record on the server.
   */
  track(memcachedKey: string, ns: Namespace, encodedKey: string): Promise<void> {
    const nsText = ns === null ? 'null' : JSON.stringify(ns);
    const line = `[${JSON.stringify(memcachedKey)},${nsText},${encodedKey}]\n`;
    const pending = this.pending;
    if (pending !== undefined) {
      pending.lines.push(line);
      return pending.written;
    }
    const lines = [line];
    // Promise.resolve().then, not queueMicrotask: fake timers (Jest's) fake queueMicrotask, and would hold
    // every tracked set back until the test advanced them.
    const written = Promise.resolve().then(() => {
      this.pending = undefined;
      return this.appendLines(lines);
    });
    this.pending = { lines, written };
    return written;
  }

  /** Appends a turn's lines, in appends of at most `appendChars`, then compacts our record when due. */
  private async appendLines(lines: readonly string[]): Promise<void> {
    const appends: Promise<void>[] = [];
    const appendChars = Math.min(
      MAX_APPEND_CHARS,
      Math.floor(this.transport.capabilities.maxItemSize / APPEND_SHARE_OF_ITEM),
    );
    let text = '';
    const send = () => {
      const bytes = Buffer.from(text);
      this.bytesSinceCompaction += bytes.length;
      appends.push(this.append(bytes));
    };
    for (const line of lines) {
      if (text !== '' && text.length + line.length > appendChars) {
        send();
        text = '';
      }
      text += line;
    }
    send();
    await Promise.all(appends);
    this.linesSinceCompaction += lines.length;
    if (
      this.linesSinceCompaction >= COMPACT_OWN_EVERY &&
      this.bytesSinceCompaction >= this.compactedBytes * OWN_GROWTH
    ) {
      this.linesSinceCompaction = 0;
      this.bytesSinceCompaction = 0;
      const key = chunkKey(this.recordKey, this.chunk);
      await this.compact(key, undefined);
      // What the compaction left (or, had an append voided its CAS, more): read apart, the set does not wait.
      this.reads.get(key).then(
        (item) => {
          if (key === chunkKey(this.recordKey, this.chunk)) this.compactedBytes = item?.value.length ?? 0;
        },
        () => {},
      );
    }
  }

  private async append(lines: Uint8Array): Promise<void> {
    const { outcome, chunk } = await appendChunked(
      this.transport,
      this.recordKey,
      lines,
      RECORD_FLAGS,
      this.chunk,
      (key) => this.compact(key, undefined),
    );
    // A chunk new to us (the next one, or the first again): nothing known of its size.
    if (chunk !== this.chunk) this.compactedBytes = 0;
    this.chunk = chunk;
    if (outcome === 'created') {
      // A new record: our first write, or the servers were flushed (and the registry with them).
      await this.register();
    } else if (outcome === 'appended' && this.now() - this.registryCheckedAt >= REGISTRY_CHECK_MS) {
      // The registry may have lost us (evicted, or pruned by a client that misjudged an outage): list us again.
      await this.ensureRegistered();
    }
  }

  private async register(): Promise<void> {
    this.registryCheckedAt = this.now();
    await appendOrCreate(this.transport, REGISTRY_KEY, Buffer.from(`${this.uid}\n`), REGISTRY_FLAGS);
  }

  private async ensureRegistered(): Promise<void> {
    this.registryCheckedAt = this.now();
    await this.registerIfMissing(await this.reads.get(REGISTRY_KEY));
  }

  /**
   * Lists our uid again when the registry, as read, does not (evicted, or pruned by a client that misjudged an
   * outage). A registry known to be unreachable is not an empty one: nothing to repair until it can be read.
   * Without the transport's `reachable` we cannot tell, and register: stored where the registry was lost,
   * nothing where the server is down, at worst a duplicate line, which readers ignore.
   */
  private async registerIfMissing(registry: TransportItem | undefined): Promise<void> {
    if (registeredUids(registry).has(this.uid)) return;
    if (registry === undefined && this.transport.reachable?.(REGISTRY_KEY) === false) return;
    await this.register();
  }

  /** The original keys live in namespace `ns`, as recorded by every tracking client. */
  async keys(ns: Namespace): Promise<Key[]> {
    const registry = await this.reads.get(REGISTRY_KEY);
    const uids = registeredUids(registry);
    const listed = uids.has(this.uid);
    uids.add(this.uid);
    const records = await Promise.all(
      [...uids].map(async (uid) => ({ uid, chunks: await readChunks(this.reads, RECORD_PREFIX + uid) })),
    );
    // Our own record is read whatever the registry says; every other client sees it only if we are listed.
    const ownRecordFound = records.some(({ uid, chunks }) => uid === this.uid && chunks.length > 0);

    const candidates = new Map<string, TrackedLine>();
    for (const { chunks } of records) {
      const lines = chunks.flatMap(({ item }) => parseLines(item));
      for (const line of latestLines(lines).values())
        if (line.ns === ns) candidates.set(line.memcachedKey, line);
    }
    const { live, dead } = await this.liveness([...candidates.keys()]);

    await Promise.all([
      ...records
        .flatMap(({ chunks }) => chunks)
        .filter(({ item }) => isMostlyGarbage(parseLines(item), dead))
        .map(({ key }) => this.compact(key, dead)),
      this.pruneRegistry(
        registry,
        records.filter(({ chunks }) => chunks.length === 0).map(({ uid }) => uid),
      ),
      !listed && ownRecordFound && this.registerIfMissing(registry),
    ]);

    const keys: Key[] = [];
    for (const line of candidates.values()) if (live.has(line.memcachedKey)) keys.push(decodeKey(line.key));
    return keys;
  }

  /**
   * Live: present, and every dependency token current (what `query` would serve). Dead: known gone, that is not
   * live although the entry's server, and the servers of the tokens it carries, were reachable before and after
   * it was read. Whatever is neither (an outage) is left alone: not listed, and not dropped from any record.
   */
  private async liveness(keys: readonly string[]): Promise<{ live: Set<string>; dead: Set<string> }> {
    const { reachable } = this.transport;
    const unreachable = (key: string) => reachable?.call(this.transport, key) === false;
    const unreachableBefore = new Set(keys.filter(unreachable));
    const present = await this.reads.getMany(keys);
    const live = await withCurrentTokens(this.reads, present);
    const dead = new Set<string>();
    // Without `reachable`, a miss may be a server that could not be read: nothing is known dead.
    if (reachable === undefined) return { live, dead };
    for (const key of keys) {
      if (live.has(key) || unreachableBefore.has(key) || unreachable(key)) continue;
      const item = present.get(key);
      const stamps = item === undefined ? undefined : entryStamps(item);
      if (stamps?.some(([tokenKey]) => unreachable(tokenKey))) continue;
      dead.add(key);
    }
    return { live, dead };
  }

  /**
   * Rewrites a record chunk without duplicate and dead lines, only if nobody appended meanwhile (CAS).
   * With `dead` undefined, every entry in the chunk is checked for liveness first (see `liveness`).
   * One compaction of a chunk at a time in this client: concurrent writes that found it full share it.
   */
  private compact(key: string, dead: ReadonlySet<string> | undefined): Promise<void> {
    let running = this.compactions.get(key);
    if (running === undefined) {
      running = this.compactNow(key, dead).finally(() => this.compactions.delete(key));
      this.compactions.set(key, running);
    }
    return running;
  }

  private async compactNow(key: string, dead: ReadonlySet<string> | undefined): Promise<void> {
    if (this.transport.cas === undefined) return;
    const item = await this.transport.get(key);
    if (item?.cas === undefined) return;
    const latest = latestLines(parseLines(item));
    const deadKeys = dead ?? (await this.liveness([...latest.keys()])).dead;
    const kept = [...latest.values()].filter((line) => !deadKeys.has(line.memcachedKey));
    const compacted = Buffer.from(kept.map((line) => `${line.text}\n`).join(''));
    if (compacted.length < item.value.length) {
      await this.transport.cas(key, compacted, item.cas, { flags: RECORD_FLAGS });
    }
  }

  /**
   * Drops uids whose record is gone (expired, evicted, flushed) from the registry. Unreachable is not absent:
   * a record on a server that cannot be read now is never taken for gone (that client would vanish from every
   * other client's `keys()`), and without the transport's `reachable` nothing is pruned.
   */
  private async pruneRegistry(registry: TransportItem | undefined, gone: readonly string[]): Promise<void> {
    const { reachable } = this.transport;
    if (reachable === undefined) return;
    const absent = (uid: string) => reachable.call(this.transport, RECORD_PREFIX + uid);
    const stale = gone.filter((uid) => uid !== this.uid && absent(uid));
    if (stale.length === 0 || registry === undefined || this.transport.cas === undefined) return;
    const current = await this.transport.get(REGISTRY_KEY);
    if (current?.cas === undefined) return;
    // A client may have re-created its record since we looked; it re-registers after that, which changes the
    // registry's CAS and voids this rewrite, so what is re-checked here cannot be dropped wrongly.
    const rechecked = await Promise.all(
      stale.map(async (uid) => ({ uid, chunks: await readChunks(this.reads, RECORD_PREFIX + uid) })),
    );
    const drop = new Set(
      rechecked.filter(({ uid, chunks }) => chunks.length === 0 && absent(uid)).map((r) => r.uid),
    );
    if (drop.size === 0) return;
    const kept = [...registeredUids(current)].filter((uid) => !drop.has(uid));
    await this.transport.cas(REGISTRY_KEY, Buffer.from(kept.map((uid) => `${uid}\n`).join('')), current.cas, {
      flags: REGISTRY_FLAGS,
    });
  }
}

/** The uids a registry lists; uids are UUIDs, so a damaged line never turns into a key memcached cannot hold. */
function registeredUids(registry: TransportItem | undefined): Set<string> {
  const uids = new Set<string>();
  if (registry === undefined) return uids;
  for (const uid of textDecoder.decode(registry.value).split('\n')) if (UID.test(uid)) uids.add(uid);
  return uids;
}

function isMostlyGarbage(lines: readonly TrackedLine[], dead: ReadonlySet<string>): boolean {
  if (lines.length < MIN_LINES_TO_COMPACT) return false;
  const latest = latestLines(lines);
  let garbage = lines.length - latest.size;
  for (const key of latest.keys()) if (dead.has(key)) garbage++;
  return garbage >= lines.length * GARBAGE_SHARE;
}
