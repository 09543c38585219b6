/**
 * What a server missed while it could not be reached, so that it never serves a value from before its outage
 * that was invalidated or replaced meanwhile (a partition: it comes back with its data).
 *
 * Deletes, and writes as deletes, of its keys are remembered while it is down (or when a write's outcome there
 * is unknown: the server went down with it in flight), and applied on the connection of the probe that found it
 * back, before it is used again: until then its keys go where they went during the outage (the gutter, or
 * nowhere). A write is remembered as a delete because the value it wrote is elsewhere or nowhere: what the
 * server holds for that key is older. A `flush` it missed, or more keys than `maxQueuedDeletes`, make it flushed
 * instead. Another client that never saw the outage may read the server before this client's deletes reach it:
 * the root README's "Guarantee limit" measures how long.
 */

/** What a transport reports when a returning server had missed writes. */
export type MissedWritesEvent =
  /** The deletes it missed were applied, before it was used again. */
  | { type: 'replayed'; server: string; deletes: number; ms: number }
  /**
   * It was flushed before it was used again: it missed more than `maxQueuedDeletes` keys (`overflow`), or a
   * `flush` (`flush`, i.e. `invalidateAll`).
   */
  | { type: 'flushed'; server: string; reason: FlushReason };

export type FlushReason = 'overflow' | 'flush';

/** One step of applying what was missed: a flush, or a batch of deletes. */
export type MissedStep = { flush: FlushReason } | { keys: string[] };

export class MissedWrites {
  private readonly keys = new Set<string>();
  private flushFor: FlushReason | undefined;
  /**
   * Keys whose delete the server confirmed since it was last in use (every key, after a flush): it holds
   * nothing for them until it is used again, so a write of one meanwhile needs no delete. Without this, a
   * server under steady writes would never be back: each round of deletes would find the keys written during
   * the last one remembered again.
   */
  private readonly cleared = new Set<string>();
  private allCleared = false;

  constructor(
    /** At most this many keys are remembered; past it the server is flushed on its return. */
    private readonly max: number,
    /** False for a connection maker that cannot delete: nothing is remembered. */
    private readonly enabled = true,
  ) {}

  /** Keys remembered (0 once a flush is due). */
  get size(): number {
    return this.keys.size;
  }

  /** Whether a flush is due, and why. */
  get flushDue(): FlushReason | undefined {
    return this.flushFor;
  }

  remember(key: string): void {
    if (!this.enabled || this.flushFor !== undefined || this.allCleared || this.keys.has(key)) return;
    if (this.cleared.has(key)) return;
    if (this.keys.size >= this.max) {
      this.flushFor = 'overflow';
      this.keys.clear();
      return;
    }
    this.keys.add(key);
  }

  /** A flush the server missed: it covers every key, remembered or not. */
  rememberFlush(): void {
    if (!this.enabled) return;
    this.flushFor ??= 'flush';
    this.keys.clear();
    this.cleared.clear();
    this.allCleared = false;
  }

  /** The next thing to apply (a due flush first), or undefined when nothing is left. */
  next(limit: number): MissedStep | undefined {
    if (this.flushFor !== undefined) return { flush: this.flushFor };
    if (this.keys.size === 0) return undefined;
    const keys: string[] = [];
    for (const key of this.keys) {
      keys.push(key);
      if (keys.length >= limit) break;
    }
    return { keys };
  }

  /**
   * A step the server confirmed. A key remembered again meanwhile is done too: nothing reaches a server that
   * is not in use but deletes, so it holds nothing for the key since the delete just applied.
   */
  done(step: MissedStep): void {
    if ('flush' in step) {
      // Keys remembered while the flush was on its way are older than it on the server: covered too.
      this.flushFor = undefined;
      this.keys.clear();
      this.cleared.clear();
      this.allCleared = true;
      return;
    }
    for (const key of step.keys) {
      this.keys.delete(key);
      this.cleared.add(key);
    }
  }

  /** The server is in use again: what it holds from now on is written there. */
  inUse(): void {
    this.cleared.clear();
    this.allCleared = false;
  }
}
