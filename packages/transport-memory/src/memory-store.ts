/**
 * One memcached server's memory: items with flags, expiry and CAS uniques, an LRU under a memory limit, and the
 * counters `stats` reports. The rules follow memcached 1.6 as measured against 1.6.18 (see the contract suite):
 * - an item costs its key + value + 59 bytes of header; one over the item limit is refused, and a refused SET
 *   also drops the key's old item (memcached unlinks it so no stale value outlives a failed overwrite);
 * - an APPEND that would overflow the limit is "not stored", exactly like an APPEND to a missing key;
 * - exptime 0 = never, up to 30 days = seconds from now, larger = absolute Unix time, negative = already expired;
 * - every modification (set, append, incr, touch...) gives the item a new CAS unique.
 */
import {
  MAX_RELATIVE_EXPTIME,
  MEMCACHED_ITEM_OVERHEAD,
  type StoreStatus,
  type TransportItem,
} from '@lovely-memcached/core';
import type { ResolvedMemoryOptions } from './options';

interface Item {
  value: Uint8Array;
  flags: number;
  /** Milliseconds since the epoch; 0 = never. */
  expiresAt: number;
  cas: bigint;
  size: number;
}

const COUNTERS = [
  'cmd_get',
  'cmd_set',
  'cmd_flush',
  'cmd_touch',
  'get_hits',
  'get_misses',
  'get_expired',
  'delete_hits',
  'delete_misses',
  'incr_hits',
  'incr_misses',
  'cas_hits',
  'cas_misses',
  'cas_badval',
  'touch_hits',
  'touch_misses',
  'evictions',
  'reclaimed',
  'total_items',
] as const;
type Counter = (typeof COUNTERS)[number];

const UINT64_MAX = (1n << 64n) - 1n;
/** What memcached's safe_strtoull accepts: leading space, an optional sign, digits, then space or the end. */
const COUNTER = /^[ \t\n\v\f\r]*([+-]?)(\d+)(?:[ \t\n\v\f\r]|$)/;

function parseCounter(text: string): bigint | undefined {
  const match = COUNTER.exec(text);
  if (match === null) return undefined;
  const value = BigInt(match[2] as string);
  // strtoull overflows to an error past 2^64 - 1; a minus sign is refused unless the number is 0.
  if (value > UINT64_MAX || (match[1] === '-' && value !== 0n)) return undefined;
  return value;
}
const textDecoder = new TextDecoder();

export class MemoryStore {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly items = new Map<string, Item>();
  private readonly counters = new Map<Counter, number>(COUNTERS.map((name) => [name, 0]));
  private bytes = 0;
  private nextCas = 1n;
  private readonly startedAt: number;

  constructor(private readonly options: ResolvedMemoryOptions) {
    this.startedAt = options.now();
  }

  get(key: string): TransportItem | undefined {
    this.count('cmd_get');
    const item = this.live(key, true);
    if (item === undefined) {
      this.count('get_misses');
      return undefined;
    }
    this.count('get_hits');
    return { value: item.value.slice(), flags: item.flags, cas: item.cas };
  }

  set(key: string, value: Uint8Array, flags: number, exptime: number): StoreStatus {
    this.count('cmd_set');
    if (!this.fits(key, value.length)) {
      this.remove(key);
      return 'too-large';
    }
    this.write(key, value.slice(), flags, this.expiresAt(exptime));
    return 'stored';
  }

  add(key: string, value: Uint8Array, flags: number, exptime: number): StoreStatus {
    this.count('cmd_set');
    if (!this.fits(key, value.length)) return 'too-large';
    if (this.live(key, false) !== undefined) return 'exists';
    this.write(key, value.slice(), flags, this.expiresAt(exptime));
    return 'stored';
  }

  append(key: string, value: Uint8Array): StoreStatus {
    this.count('cmd_set');
    const item = this.live(key, false);
    if (item === undefined || !this.fits(key, item.value.length + value.length)) return 'not-stored';
    const joined = new Uint8Array(item.value.length + value.length);
    joined.set(item.value);
    joined.set(value, item.value.length);
    this.write(key, joined, item.flags, item.expiresAt);
    return 'stored';
  }

  cas(key: string, value: Uint8Array, cas: bigint, flags: number, exptime: number): StoreStatus {
    this.count('cmd_set');
    if (!this.fits(key, value.length)) return 'too-large';
    const item = this.live(key, false);
    if (item === undefined) {
      this.count('cas_misses');
      return 'not-found';
    }
    if (item.cas !== cas) {
      this.count('cas_badval');
      return 'exists';
    }
    this.count('cas_hits');
    this.write(key, value.slice(), flags, this.expiresAt(exptime));
    return 'stored';
  }

  delete(key: string): boolean {
    const found = this.live(key, false) !== undefined;
    this.count(found ? 'delete_hits' : 'delete_misses');
    if (found) this.remove(key);
    return found;
  }

  incr(key: string, delta: bigint): bigint | undefined {
    const item = this.live(key, false);
    if (item === undefined) {
      this.count('incr_misses');
      return undefined;
    }
    const current = parseCounter(textDecoder.decode(item.value));
    if (current === undefined) return undefined;
    this.count('incr_hits');
    // memcached counters are unsigned 64-bit and wrap around.
    const next = (current + delta) & UINT64_MAX;
    let text = next.toString();
    // memcached rewrites a counter in place when the new number is not longer, padding it with spaces
    // ("007" + 1 reads back as "8  ").
    if (text.length <= item.value.length) text = text.padEnd(item.value.length, ' ');
    this.write(key, new TextEncoder().encode(text), item.flags, item.expiresAt);
    return next;
  }

  touch(key: string, exptime: number): boolean {
    this.count('cmd_touch');
    const item = this.live(key, true);
    this.count(item ? 'touch_hits' : 'touch_misses');
    if (item === undefined) return false;
    item.expiresAt = this.expiresAt(exptime);
    item.cas = this.nextCas++;
    return true;
  }

  flush(): void {
    this.count('cmd_flush');
    this.items.clear();
    this.bytes = 0;
  }

  stats(): Record<string, string> {
    const now = this.options.now();
    const stats: Record<string, string> = {
      pid: String(process.pid),
      uptime: String(Math.floor((now - this.startedAt) / 1000)),
      time: String(Math.floor(now / 1000)),
      version: '1.6.18-memory',
      pointer_size: '64',
      curr_connections: '1',
      total_connections: '1',
      curr_items: String(this.items.size),
      bytes: String(this.bytes),
      limit_maxbytes: String(this.options.memoryLimit),
      item_size_max: String(this.options.maxItemSize),
      threads: '1',
    };
    for (const [name, value] of this.counters) stats[name] = String(value);
    return stats;
  }

  /** The keys held, least recently used first (expired ones not yet reclaimed included), for tests. */
  keys(): string[] {
    return [...this.items.keys()];
  }

  /** Number of items held, expired ones not yet reclaimed included (like memcached's curr_items). */
  get size(): number {
    return this.items.size;
  }

  private count(counter: Counter): void {
    this.counters.set(counter, (this.counters.get(counter) as number) + 1);
  }

  private fits(key: string, valueLength: number): boolean {
    return key.length + valueLength + MEMCACHED_ITEM_OVERHEAD <= this.options.maxItemSize;
  }

  private expiresAt(exptime: number): number {
    if (exptime === 0) return 0;
    if (exptime < 0) return -1; // already expired
    if (exptime > MAX_RELATIVE_EXPTIME) return exptime * 1000;
    return this.options.now() + exptime * 1000;
  }

  /** The item if present and not expired; expired items are reclaimed on sight. */
  private live(key: string, bump: boolean): Item | undefined {
    const item = this.items.get(key);
    if (item === undefined) return undefined;
    if (item.expiresAt !== 0 && item.expiresAt <= this.options.now()) {
      this.remove(key);
      this.count('reclaimed');
      if (bump) this.count('get_expired');
      return undefined;
    }
    if (bump) {
      this.items.delete(key);
      this.items.set(key, item);
    }
    return item;
  }

  private write(key: string, value: Uint8Array, flags: number, expiresAt: number): void {
    this.remove(key);
    const size = key.length + value.length + MEMCACHED_ITEM_OVERHEAD;
    this.makeRoom(size);
    this.items.set(key, { value, flags: flags >>> 0, expiresAt, cas: this.nextCas++, size });
    this.bytes += size;
    this.count('total_items');
  }

  private remove(key: string): void {
    const item = this.items.get(key);
    if (item === undefined) return;
    this.items.delete(key);
    this.bytes -= item.size;
  }

  /** Frees memory for `size` more bytes: expired items first, then the least recently used. */
  private makeRoom(size: number): void {
    if (this.bytes + size <= this.options.memoryLimit) return;
    const now = this.options.now();
    for (const [key, item] of this.items) {
      if (item.expiresAt !== 0 && item.expiresAt <= now) {
        this.remove(key);
        this.count('reclaimed');
      }
    }
    for (const key of this.items.keys()) {
      if (this.bytes + size <= this.options.memoryLimit) break;
      this.remove(key);
      this.count('evictions');
    }
  }
}
