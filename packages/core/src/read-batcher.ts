/**
 * Coalesces reads made in the same microtask turn into one `getMulti` (one round trip per server).
 *
 * Batching is on the microtask queue, never on a timer: a lone caller pays one microtask, not a delay, and 64
 * concurrent queries (or the dependency-token checks they all make after their entries arrive together) leave
 * as one multi-get.
 *
 * The microtask is a resolved promise's `then`, not `queueMicrotask`: test runners' fake timers fake
 * `queueMicrotask` (Jest's by default), and every read would wait for the test to advance them. Both queue the
 * callback at once, in the same order.
 */
import type { Transport, TransportItem } from './transport';

/** Queues the batcher's callbacks on the microtask queue (see above): one promise for every batcher. */
const resolved = Promise.resolve();

/**
 * From this many keys a `getMany` is its own multi-get: joining the batch would cost a waiter per key (10,000
 * of them for a dependency's dependents) to share a round trip it does not need.
 */
const DIRECT_READ_KEYS = 256;

/** Told the outcome of one key of a batch. */
interface Waiter {
  found(key: string, item: TransportItem | undefined): void;
  failed(error: unknown): void;
}

/** The waiter of a single `get`: its promise's own resolve and reject, so a lone read needs no closure. */
class ItemRead implements Waiter {
  constructor(
    readonly resolve: (item: TransportItem | undefined) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  found(_key: string, item: TransportItem | undefined): void {
    this.resolve(item);
  }

  failed(error: unknown): void {
    this.reject(error);
  }
}

export class ReadBatcher {
  /**
   * The first read of the pending batch, kept apart: a lone read (every read at concurrency 1) costs no map.
   * The map of every key's waiters is made when a second read joins.
   */
  private loneKey: string | undefined;
  private loneWaiter: Waiter | undefined;
  private pending: Map<string, Waiter[]> | undefined;
  private readonly flushBatch = () => this.flush();
  /**
   * How many keys the last read sent carried. After a read of one key (a lone caller, as at concurrency 1) the
   * next read alone in its turn is sent at once; the batching microtask was ~1.5 % of a loopback round trip.
   * Concurrent callers make batches larger than one, and their reads keep waiting for the microtask.
   */
  private lastBatchSize = 0;
  private sentAloneThisTurn = false;
  private batchFollowsAlone = false;
  private readonly endTurn = () => {
    this.sentAloneThisTurn = false;
  };
  /**
   * The `getMany` reads of the pending batch, by their key array: queries of entries sharing dependencies ask
   * for the very same array of token keys (live-entry.ts shares it), and share one read instead of each
   * waiting on every key (at 64 concurrent queries of entries with 3 dependencies, that was 192 waiters and
   * 64 maps per batch for 3 keys).
   */
  private pendingMany: Map<readonly string[], Promise<ReadonlyMap<string, TransportItem>>> | undefined;

  /** What `getMany` reads came back with, once they did (see `settledMany`). */
  private readonly settled = new WeakMap<Promise<unknown>, ReadonlyMap<string, TransportItem>>();

  constructor(private readonly transport: Transport) {}

  /**
   * The result of a `getMany` read that has come back, or undefined: a query's tokens come back in the same
   * batch as its entry (just before it), so the query checks them without waiting another microtask turn.
   */
  settledMany(
    read: Promise<ReadonlyMap<string, TransportItem>>,
  ): ReadonlyMap<string, TransportItem> | undefined {
    return this.settled.get(read);
  }

  get(key: string): Promise<TransportItem | undefined> {
    if (this.transport.getMulti === undefined) return this.transport.get(key);
    if (this.lastBatchSize === 1 && this.loneWaiter === undefined && !this.sentAloneThisTurn) {
      // A lone caller: the read leaves now, not after the batching microtask. Reads joining it in this turn
      // are batched as usual, and that batch's size puts the batcher back into batching.
      this.sentAloneThisTurn = true;
      resolved.then(this.endTurn);
      try {
        return this.transport.get(key);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => this.wait(key, new ItemRead(resolve, reject)));
  }

  /**
   * Reads several keys; they join the current batch. Missing keys are absent from the map, which callers
   * passing the same array in the same batch share: never to be modified.
   */
  getMany(keys: readonly string[]): Promise<ReadonlyMap<string, TransportItem>> {
    const shared = this.pendingMany?.get(keys);
    if (shared !== undefined) return shared;
    const found = new Map<string, TransportItem>();
    if (keys.length === 0) return Promise.resolve(found);
    if (keys.length >= DIRECT_READ_KEYS && this.transport.getMulti !== undefined) {
      // A reverse index's dependents: one multi-get of its own, without a waiter per key in the batch.
      try {
        return this.transport.getMulti(keys);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (this.transport.getMulti === undefined) {
      return Promise.all(keys.map((key) => this.transport.get(key))).then((items) => {
        items.forEach((item, i) => {
          if (item !== undefined) found.set(keys[i] as string, item);
        });
        return found;
      });
    }
    const read: Promise<ReadonlyMap<string, TransportItem>> = new Promise((resolve, reject) => {
      // One waiter for all the keys: a query's token check costs one promise, not one per token.
      let remaining = keys.length;
      const waiter: Waiter = {
        found: (key, item) => {
          if (item !== undefined) found.set(key, item);
          if (--remaining === 0) {
            this.settled.set(read, found);
            resolve(found);
          }
        },
        failed: reject,
      };
      for (const key of keys) this.wait(key, waiter);
    });
    this.pendingMany ??= new Map();
    this.pendingMany.set(keys, read);
    return read;
  }

  private wait(key: string, waiter: Waiter): void {
    if (this.loneWaiter === undefined) {
      this.loneKey = key;
      this.loneWaiter = waiter;
      this.batchFollowsAlone = this.sentAloneThisTurn;
      resolved.then(this.flushBatch);
      return;
    }
    let pending = this.pending;
    if (pending === undefined) {
      pending = new Map([[this.loneKey as string, [this.loneWaiter]]]);
      this.pending = pending;
    }
    const waiters = pending.get(key);
    if (waiters === undefined) pending.set(key, [waiter]);
    else waiters.push(waiter);
  }

  /** A batch of one read: the caller's promise settles straight from the transport's. */
  private readOne(key: string, waiter: Waiter): void {
    try {
      const read = this.transport.get(key);
      if (waiter instanceof ItemRead) read.then(waiter.resolve, waiter.reject);
      else
        read.then(
          (item) => waiter.found(key, item),
          (error) => waiter.failed(error),
        );
    } catch (error) {
      // A transport that throws instead of rejecting must not crash the process from a microtask.
      waiter.failed(error);
    }
  }

  private flush(): void {
    const loneKey = this.loneKey as string;
    const lone = this.loneWaiter;
    const batch = this.pending;
    this.loneKey = undefined;
    this.loneWaiter = undefined;
    this.pending = undefined;
    this.pendingMany = undefined;
    if (lone === undefined) return;
    // A batch that followed a read sent alone in the same turn counts that one too.
    this.lastBatchSize = (batch?.size ?? 1) + (this.batchFollowsAlone ? 1 : 0);
    if (batch === undefined) {
      this.readOne(loneKey, lone);
      return;
    }
    const fail = (error: unknown) => {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.failed(error);
    };
    try {
      if (batch.size === 1) {
        const [key, waiters] = batch.entries().next().value as [string, Waiter[]];
        this.transport.get(key).then((item) => {
          for (const waiter of waiters) waiter.found(key, item);
        }, fail);
        return;
      }
      (this.transport.getMulti as NonNullable<Transport['getMulti']>)
        .call(this.transport, [...batch.keys()])
        .then((items) => {
          for (const [key, waiters] of batch) {
            const item = items.get(key);
            for (const waiter of waiters) waiter.found(key, item);
          }
        }, fail);
    } catch (error) {
      // A transport that throws instead of rejecting must not crash the process from a microtask.
      fail(error);
    }
  }
}
