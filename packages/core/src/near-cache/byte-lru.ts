/**
 * A least-recently-used map bounded by the bytes of what it holds (as lru-cache's `maxSize` with a
 * `sizeCalculation`), on one insertion-ordered `Map`: a hit re-inserts its key at the end, an insertion evicts
 * from the front until the total fits. Core depends on nothing but Node built-ins, so it is written here.
 */
export interface Sized {
  readonly size: number;
}

export class ByteLru<V extends Sized> {
  private readonly entries = new Map<string, V>();
  private total = 0;
  /** Entries pushed out to make room (not those dropped by an invalidation). */
  evictions = 0;

  constructor(
    readonly maxBytes: number,
    /** Told of every entry leaving, evicted or deleted. */
    private readonly onRemove: (key: string, value: V) => void,
  ) {}

  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.entries.size;
  }

  /** The entry, marked as used most recently. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Already the most recent one (a hot key read again): nothing to move.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Stores `value`; false (and nothing stored) when it alone is larger than the whole bound. */
  set(key: string, value: V): boolean {
    this.delete(key);
    if (value.size > this.maxBytes) return false;
    this.entries.set(key, value);
    this.total += value.size;
    if (this.total > this.maxBytes) {
      for (const [oldKey, old] of this.entries) {
        if (this.total <= this.maxBytes) break;
        this.entries.delete(oldKey);
        this.total -= old.size;
        this.evictions++;
        this.onRemove(oldKey, old);
      }
    }
    return true;
  }

  delete(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.total -= value.size;
    this.onRemove(key, value);
    return value;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
