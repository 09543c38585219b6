/**
 * L1: a near cache in each process, bounded twice (STYLE.md 18): by bytes (ByteLru) and by time since the copy
 * was confirmed by memcached (`maxStale`, measured from when the read that brought it was issued).
 *
 * Coherence:
 * - this process's own writes and invalidations drop the copies they touch before they resolve (at their start
 *   and again at their end, so a read in flight in between cannot put an old copy back);
 * - a copy remembers the token keys (dependencies, namespace) it was stamped with, so a dependency or namespace
 *   invalidation drops every dependent;
 * - a read that was in flight when an invalidation covering it happened never fills L1 (the invalidation log
 *   below), and a read started after an invalidation never joins a read started before it (flights detached);
 * - other processes' invalidations arrive through the bus, when one is given; whatever the bus does, no copy is
 *   served once it is `maxStale` old.
 */
import { randomBytes } from 'node:crypto';
import type { DecodedEntry } from '../entry-format';
import { type Freshness, isFresh } from '../freshness';
import { warnOnce } from '../option-checks';
import type { L1TraceInfo } from '../tracing';
import type { TransportItem } from '../transport';
import type { L1Bus } from './bus';
import { ByteLru } from './byte-lru';
import type { ResolvedL1Options } from './l1-options';
import { decodeMessage, encodeMessages, MessageKind, SENDER_BYTES } from './messages';

/** What one copy costs beyond its value's bytes (the entry object, its map slot, its key). */
const ENTRY_OVERHEAD = 160;
const LOG_CAPACITY = 512;

interface Copy {
  readonly value: unknown;
  readonly raw: boolean;
  readonly size: number;
  /** When the read that brought it was issued (the client's clock, ms). */
  readonly confirmedAt: number;
  readonly tokenKeys: readonly string[];
  readonly freshness: Freshness | undefined;
}

interface Invalidation {
  seq: number;
  keys?: readonly string[] | undefined;
  tokenKeys?: readonly string[] | undefined;
  all?: boolean;
}

/** L1's counters, as `client.l1Stats()` gives them and the tracing context carries them. */
export interface L1Stats {
  /** Reads answered from L1. */
  hits: number;
  /** Reads that went to memcached (absent, older than maxStale, or dropped). */
  misses: number;
  /** Bytes held (values as stored, plus a fixed overhead per copy). */
  bytes: number;
  entries: number;
  /** Copies pushed out to stay under maxBytes. */
  evictions: number;
  /** Invalidations received from other processes through the bus. */
  busMessages: number;
  /** Messages on the bus that were not ours (another format or version): ignored. */
  foreignMessages: number;
  /** Publishes or subscriptions the bus refused or failed. */
  busErrors: number;
}

export type NearRead = (seen: { item?: TransportItem }) => Promise<DecodedEntry | undefined>;

export class NearCache {
  readonly maxStaleMs: number;
  private readonly lru: ByteLru<Copy>;
  private readonly dependents = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Promise<DecodedEntry | undefined>>();
  private seq = 0;
  private log: Invalidation[] = [];
  private readonly bus: L1Bus | undefined;
  private readonly sender = randomBytes(SENDER_BYTES);
  private readonly senderHex = this.sender.toString('hex');
  private closed = false;
  hits = 0;
  misses = 0;
  busMessages = 0;
  foreignMessages = 0;
  busErrors = 0;

  constructor(
    options: ResolvedL1Options,
    private readonly now: () => number,
  ) {
    this.maxStaleMs = options.maxStaleMs;
    this.lru = new ByteLru<Copy>(options.maxBytes, (key, copy) => this.unindex(key, copy));
    this.bus = options.bus;
    if (this.bus !== undefined) {
      const listener = (message: Uint8Array) => this.received(message);
      try {
        const subscribed = this.bus.subscribe(listener);
        if (subscribed !== undefined && typeof subscribed.then === 'function') {
          subscribed.then(undefined, (error: unknown) => this.busFailed('subscribe', error));
        }
      } catch (error) {
        this.busFailed('subscribe', error);
      }
    }
  }

  /** A copy young enough to serve (and fresh, for read-through entries), or undefined. */
  fresh(memcachedKey: string, raw: boolean): Copy | undefined {
    const copy = this.lru.get(memcachedKey);
    if (copy === undefined || copy.raw !== raw) return undefined;
    const now = this.now();
    if (now - copy.confirmedAt >= this.maxStaleMs) {
      this.lru.delete(memcachedKey);
      return undefined;
    }
    if (copy.freshness !== undefined && !isFresh(copy.freshness, now)) return undefined;
    return copy;
  }

  /**
   * The entry from memcached, by one read shared by every concurrent caller of this key; the copy is kept
   * unless an invalidation covering it happened while the read was out.
   */
  read(memcachedKey: string, raw: boolean, load: NearRead): Promise<DecodedEntry | undefined> {
    const flightKey = raw ? `${memcachedKey}\u0000raw` : memcachedKey;
    const joined = this.flights.get(flightKey);
    if (joined !== undefined) return joined;
    const startSeq = this.seq;
    const startedAt = this.now();
    const seen: { item?: TransportItem } = {};
    const flight: Promise<DecodedEntry | undefined> = load(seen).then(
      (entry) => {
        if (this.flights.get(flightKey) === flight) this.flights.delete(flightKey);
        if (entry !== undefined && seen.item !== undefined && !this.closed) {
          this.fill(memcachedKey, raw, entry, seen.item, startSeq, startedAt);
        }
        return entry;
      },
      (error: unknown) => {
        if (this.flights.get(flightKey) === flight) this.flights.delete(flightKey);
        throw error;
      },
    );
    this.flights.set(flightKey, flight);
    return flight;
  }

  private fill(
    memcachedKey: string,
    raw: boolean,
    entry: DecodedEntry,
    item: TransportItem,
    startSeq: number,
    startedAt: number,
  ): void {
    if (this.maxStaleMs === 0) return;
    const tokenKeys = entry.stamps.length === 0 ? NO_KEYS : entry.stamps.map(([tokenKey]) => tokenKey);
    if (this.seq !== startSeq && this.coveredSince(startSeq, memcachedKey, tokenKeys)) return;
    const copy: Copy = {
      value: entry.value,
      raw,
      size: sizeOf(entry.value, item) + memcachedKey.length + ENTRY_OVERHEAD,
      confirmedAt: startedAt,
      tokenKeys,
      freshness: entry.freshness,
    };
    if (!this.lru.set(memcachedKey, copy)) return;
    for (const tokenKey of tokenKeys) {
      let keys = this.dependents.get(tokenKey);
      if (keys === undefined) {
        keys = new Set();
        this.dependents.set(tokenKey, keys);
      }
      keys.add(memcachedKey);
    }
  }

  /** Whether an invalidation recorded after `startSeq` covers a copy of `memcachedKey` stamped with `tokenKeys`. */
  private coveredSince(startSeq: number, memcachedKey: string, tokenKeys: readonly string[]): boolean {
    const { log } = this;
    if (log.length === 0 || (log[0] as Invalidation).seq > startSeq + 1) return true; // forgotten: assume so
    for (let i = log.length - 1; i >= 0; i--) {
      const invalidation = log[i] as Invalidation;
      if (invalidation.seq <= startSeq) return false;
      if (invalidation.all === true || invalidation.keys?.includes(memcachedKey) === true) return true;
      if (invalidation.tokenKeys?.some((tokenKey) => tokenKeys.includes(tokenKey)) === true) return true;
    }
    return false;
  }

  private unindex(memcachedKey: string, copy: Copy): void {
    for (const tokenKey of copy.tokenKeys) {
      const keys = this.dependents.get(tokenKey);
      if (keys === undefined) continue;
      keys.delete(memcachedKey);
      if (keys.size === 0) this.dependents.delete(tokenKey);
    }
  }

  private record(invalidation: Omit<Invalidation, 'seq'>): void {
    if (this.log.length >= LOG_CAPACITY) this.log = this.log.slice(LOG_CAPACITY / 2);
    this.log.push({ ...invalidation, seq: ++this.seq });
  }

  /**
   * Drops the copies of `keys` and every copy stamped with one of `tokenKeys`; with `announce`, tells the other
   * processes through the bus (after the invalidation itself is done in memcached).
   */
  drop(keys: readonly string[], tokenKeys: readonly string[], announce: boolean): void {
    if (keys.length === 0 && tokenKeys.length === 0) return;
    this.record({ keys, tokenKeys });
    for (const key of keys) {
      this.lru.delete(key);
      this.flights.delete(key);
      this.flights.delete(`${key}\u0000raw`);
    }
    if (tokenKeys.length > 0) {
      // Which keys a read in flight is stamped with is known only when it lands: none is joined any more.
      this.flights.clear();
      for (const tokenKey of tokenKeys) {
        const dependents = this.dependents.get(tokenKey);
        if (dependents === undefined) continue;
        for (const key of [...dependents]) this.lru.delete(key);
        this.dependents.delete(tokenKey);
      }
    }
    if (announce) {
      if (keys.length > 0) this.publish(MessageKind.KEYS, keys);
      if (tokenKeys.length > 0) this.publish(MessageKind.TOKENS, tokenKeys);
    }
  }

  /**
   * Runs a write or an invalidation of `keys` / `tokenKeys`: the copies go before it starts and again when it
   * ends (a read that landed in between cannot leave an old copy behind); then the other processes are told.
   */
  around<T>(keys: readonly string[], tokenKeys: readonly string[], run: () => Promise<T>): Promise<T> {
    this.drop(keys, tokenKeys, false);
    let done: Promise<T>;
    try {
      done = run();
    } catch (error) {
      this.drop(keys, tokenKeys, false);
      return Promise.reject(error);
    }
    return done.then(
      (result) => {
        this.drop(keys, tokenKeys, true);
        return result;
      },
      (error: unknown) => {
        this.drop(keys, tokenKeys, true);
        throw error;
      },
    );
  }

  /** What the tracing context of a read carries about L1. */
  traceInfo(hit: boolean): L1TraceInfo {
    return { hit, bytes: this.lru.bytes, entries: this.lru.count, evictions: this.lru.evictions };
  }

  /** Drops every copy (`invalidateAll`, a new server list). */
  dropAll(announce: boolean): void {
    this.record({ all: true });
    this.lru.clear();
    this.dependents.clear();
    this.flights.clear();
    if (announce) this.publish(MessageKind.ALL, NO_KEYS);
  }

  stats(): L1Stats {
    return {
      hits: this.hits,
      misses: this.misses,
      bytes: this.lru.bytes,
      entries: this.lru.count,
      evictions: this.lru.evictions,
      busMessages: this.busMessages,
      foreignMessages: this.foreignMessages,
      busErrors: this.busErrors,
    };
  }

  close(): Promise<void> {
    this.closed = true;
    this.lru.clear();
    this.dependents.clear();
    this.flights.clear();
    const { bus } = this;
    if (bus === undefined) return Promise.resolve();
    // The bus's failure to close is reported, never a rejection of the client's close().
    return (async () => bus.close())().then(undefined, (error: unknown) => this.busFailed('close', error));
  }

  private publish(kind: MessageKind, keys: readonly string[]): void {
    const { bus } = this;
    if (bus === undefined || this.closed) return;
    for (const message of encodeMessages(kind, this.sender, keys)) {
      try {
        const published = bus.publish(message);
        if (published !== undefined && typeof published.then === 'function') {
          published.then(undefined, (error: unknown) => this.busFailed('publish', error));
        }
      } catch (error) {
        this.busFailed('publish', error);
      }
    }
  }

  /** A message from the bus: never throws back into it. */
  private received(bytes: Uint8Array): void {
    try {
      const message = decodeMessage(bytes);
      if (message === undefined) {
        this.foreignMessages++;
        return;
      }
      if (message.sender === this.senderHex || this.closed) return;
      this.busMessages++;
      if (message.kind === MessageKind.ALL) this.dropAll(false);
      else if (message.kind === MessageKind.KEYS) this.drop(message.keys, NO_KEYS, false);
      else this.drop(NO_KEYS, message.keys, false);
    } catch {
      this.foreignMessages++;
    }
  }

  private busFailed(what: string, error: unknown): void {
    this.busErrors++;
    warnOnce(
      'lovely-memcached: the L1 bus failed (L1 copies still expire after maxStale)',
      new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
}

const NO_KEYS: readonly string[] = Object.freeze([]);

/** Bytes a decoded value holds: strings and bytes exactly, structured values as twice their stored form. */
function sizeOf(value: unknown, item: TransportItem): number {
  if (typeof value === 'string') return Math.max(value.length, item.value.length);
  if (value instanceof Uint8Array) return Math.max(value.byteLength, item.value.length);
  return 2 * item.value.length;
}
