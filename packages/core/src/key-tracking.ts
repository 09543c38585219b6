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
 * compaction never erases a line appended while it ran.
 */

import { appendOrCreate } from './append-record';
import { flagsOf, Kind } from './entry-format';
import { decodeKey, isMemcachedKey, type Key, type Namespace } from './key';
import type { ReadBatcher } from './read-batcher';
import type { Transport, TransportItem } from './transport';

const REGISTRY_KEY = 'lovely-memcached:tracking:uids';
const RECORD_PREFIX = 'lovely-memcached:tracking:';
const REGISTRY_FLAGS = flagsOf(Kind.REGISTRY);
const RECORD_FLAGS = flagsOf(Kind.TRACKING);
/** A client compacts its own record after this many appends. */
const COMPACT_OWN_EVERY = 1000;
/** `keys()` compacts a record when at least this share of its lines is garbage (and it has a few lines). */
const GARBAGE_SHARE = 0.5;
const MIN_LINES_TO_COMPACT = 16;

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
  private appendsSinceCompaction = 0;

  constructor(
    private readonly transport: Transport,
    private readonly reads: ReadBatcher,
    private readonly uid: string,
  ) {
    this.recordKey = RECORD_PREFIX + uid;
  }

  async track(memcachedKey: string, ns: Namespace, encodedKey: string): Promise<void> {
    const nsText = ns === null ? 'null' : JSON.stringify(ns);
    const line = Buffer.from(`[${JSON.stringify(memcachedKey)},${nsText},${encodedKey}]\n`);
    const status = await appendOrCreate(this.transport, this.recordKey, line, RECORD_FLAGS);
    if (status === 'created') {
      // A new record: our first write, or the servers were flushed (and the registry with them).
      await this.register();
    } else if (status === 'full') {
      await this.compact(this.recordKey, undefined);
      await this.transport.append(this.recordKey, line);
    } else if (++this.appendsSinceCompaction >= COMPACT_OWN_EVERY) {
      this.appendsSinceCompaction = 0;
      await this.compact(this.recordKey, undefined);
    }
  }

  private async register(): Promise<void> {
    await appendOrCreate(this.transport, REGISTRY_KEY, Buffer.from(`${this.uid}\n`), REGISTRY_FLAGS);
  }

  /** The original keys live in namespace `ns`, as recorded by every tracking client. */
  async keys(ns: Namespace): Promise<Key[]> {
    const registry = await this.reads.get(REGISTRY_KEY);
    const uids = new Set(registry === undefined ? [] : textDecoder.decode(registry.value).split('\n'));
    // Uids are UUIDs; a damaged registry line must not turn into a key memcached cannot hold.
    for (const uid of uids) if (!UID.test(uid)) uids.delete(uid);
    uids.add(this.uid);
    const recordKeys = [...uids].map((uid) => RECORD_PREFIX + uid);
    const records = await this.reads.getMany(recordKeys);

    const perRecord = recordKeys.map((key) => ({ key, lines: parseLines(records.get(key)) }));
    const candidates = new Map<string, TrackedLine>();
    for (const { lines } of perRecord) {
      for (const line of latestLines(lines).values())
        if (line.ns === ns) candidates.set(line.memcachedKey, line);
    }
    const live = await this.reads.getMany([...candidates.keys()]);
    const dead = new Set([...candidates.keys()].filter((key) => !live.has(key)));

    await Promise.all([
      ...perRecord
        .filter(({ lines }) => isMostlyGarbage(lines, dead))
        .map(({ key }) => this.compact(key, dead)),
      this.pruneRegistry(
        registry,
        [...uids].filter((uid) => !records.has(RECORD_PREFIX + uid)),
      ),
    ]);

    const keys: Key[] = [];
    for (const line of candidates.values()) if (live.has(line.memcachedKey)) keys.push(decodeKey(line.key));
    return keys;
  }

  /**
   * Rewrites a record without duplicate and dead lines, only if nobody appended meanwhile (CAS).
   * With `dead` undefined, every entry in the record is checked for liveness first.
   */
  private async compact(recordKey: string, dead: ReadonlySet<string> | undefined): Promise<void> {
    if (this.transport.cas === undefined) return;
    const item = await this.transport.get(recordKey);
    if (item?.cas === undefined) return;
    const latest = latestLines(parseLines(item));
    let deadKeys = dead;
    if (deadKeys === undefined) {
      const live = await this.reads.getMany([...latest.keys()]);
      deadKeys = new Set([...latest.keys()].filter((key) => !live.has(key)));
    }
    const kept = [...latest.values()].filter((line) => !deadKeys.has(line.memcachedKey));
    const compacted = Buffer.from(kept.map((line) => `${line.text}\n`).join(''));
    if (compacted.length < item.value.length) {
      await this.transport.cas(recordKey, compacted, item.cas, { flags: RECORD_FLAGS });
    }
  }

  /** Drops uids whose record is gone (expired, evicted, flushed) from the registry. */
  private async pruneRegistry(registry: TransportItem | undefined, gone: readonly string[]): Promise<void> {
    const stale = gone.filter((uid) => uid !== this.uid);
    if (stale.length === 0 || registry === undefined || this.transport.cas === undefined) return;
    const current = await this.transport.get(REGISTRY_KEY);
    if (current?.cas === undefined) return;
    // A client may have re-created its record since we looked; it re-registers after that, which changes the
    // registry's CAS and voids this rewrite, so what is re-checked here cannot be dropped wrongly.
    const back = await this.reads.getMany(stale.map((uid) => RECORD_PREFIX + uid));
    const drop = new Set(stale.filter((uid) => !back.has(RECORD_PREFIX + uid)));
    if (drop.size === 0) return;
    const kept = [...new Set(textDecoder.decode(current.value).split('\n'))].filter(
      (uid) => uid !== '' && !drop.has(uid),
    );
    await this.transport.cas(REGISTRY_KEY, Buffer.from(kept.map((uid) => `${uid}\n`).join('')), current.cas, {
      flags: REGISTRY_FLAGS,
    });
  }
}

function isMostlyGarbage(lines: readonly TrackedLine[], dead: ReadonlySet<string>): boolean {
  if (lines.length < MIN_LINES_TO_COMPACT) return false;
  const latest = latestLines(lines);
  let garbage = lines.length - latest.size;
  for (const key of latest.keys()) if (dead.has(key)) garbage++;
  return garbage >= lines.length * GARBAGE_SHARE;
}
