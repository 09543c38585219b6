/**
 * The versioned database the cache fronts: one monotonic version per entity. It lives in one process (the
 * test's); workers elsewhere reach it over IPC (ipc.ts). A version bump is acknowledged before the
 * invalidation is called, so "v < version after the bump" means the value was computed from data the
 * invalidation was meant to remove.
 */
export type LockMode = 'shared' | 'exclusive';

/** What a worker sees of the database, in-process or remote. */
export interface OracleClient {
  read(key: string): Promise<number>;
  /** Bumps every key at once; each key's version after the bump. */
  bump(keys: readonly string[]): Promise<Record<string, number>>;
  /** Sanity mode only: reads-through and sets hold it shared, updates exclusive (see workload.ts). */
  lock(mode: LockMode): Promise<void>;
  unlock(mode: LockMode): Promise<void>;
}

export class Oracle {
  private readonly versions = new Map<string, number>();
  readonly lock = new ReadWriteLock();

  read(key: string): number {
    return this.versions.get(key) ?? 0;
  }

  /** Synchronous: no reader can see half of a category's or a namespace's bump. */
  bump(keys: readonly string[]): Record<string, number> {
    const after: Record<string, number> = {};
    for (const key of keys) {
      const v = this.read(key) + 1;
      this.versions.set(key, v);
      after[key] = v;
    }
    return after;
  }

  client(): OracleClient {
    return {
      read: async (key) => this.read(key),
      bump: async (keys) => this.bump(keys),
      lock: (mode) => this.lock.acquire(mode),
      unlock: async (mode) => this.lock.release(mode),
    };
  }
}

/**
 * Shared/exclusive, granted in arrival order: a waiting update holds back later reads-through, so updates are
 * not starved by a steady stream of them.
 */
export class ReadWriteLock {
  private shared = 0;
  private exclusive = false;
  private readonly waiting: Array<{ mode: LockMode; grant: () => void }> = [];

  acquire(mode: LockMode): Promise<void> {
    if (this.waiting.length === 0 && this.compatible(mode)) {
      this.take(mode);
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ mode, grant }));
  }

  release(mode: LockMode): void {
    if (mode === 'exclusive') this.exclusive = false;
    else this.shared--;
    for (
      let next = this.waiting[0];
      next !== undefined && this.compatible(next.mode);
      next = this.waiting[0]
    ) {
      this.waiting.shift();
      this.take(next.mode);
      next.grant();
    }
  }

  private compatible(mode: LockMode): boolean {
    return mode === 'shared' ? !this.exclusive : !this.exclusive && this.shared === 0;
  }

  private take(mode: LockMode): void {
    if (mode === 'exclusive') this.exclusive = true;
    else this.shared++;
  }
}
