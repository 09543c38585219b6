/**
 * Coalesces reads made in the same microtask turn into one `getMulti` (one round trip per server).
 *
 * Batching is on the microtask queue, never on a timer: a lone caller pays one microtask, not a delay, and 64
 * concurrent queries (or the dependency-token checks they all make after their entries arrive together) leave
 * as one multi-get.
 */
import type { Transport, TransportItem } from './transport';

type Waiter = (item: TransportItem | undefined) => void;
type Failer = (error: unknown) => void;

export class ReadBatcher {
  private pending: Map<string, Array<[Waiter, Failer]>> | undefined;

  constructor(private readonly transport: Transport) {}

  get(key: string): Promise<TransportItem | undefined> {
    if (this.transport.getMulti === undefined) return this.transport.get(key);
    return new Promise((resolve, reject) => {
      let pending = this.pending;
      if (pending === undefined) {
        pending = new Map();
        this.pending = pending;
        queueMicrotask(() => this.flush());
      }
      const waiters = pending.get(key);
      if (waiters === undefined) pending.set(key, [[resolve, reject]]);
      else waiters.push([resolve, reject]);
    });
  }

  /** Reads several keys; they join the current batch. Missing keys are absent from the map. */
  async getMany(keys: readonly string[]): Promise<Map<string, TransportItem>> {
    const items = await Promise.all(keys.map((key) => this.get(key)));
    const found = new Map<string, TransportItem>();
    items.forEach((item, i) => {
      if (item !== undefined) found.set(keys[i] as string, item);
    });
    return found;
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = undefined;
    if (batch === undefined) return;
    if (batch.size === 1) {
      const [key, waiters] = batch.entries().next().value as [string, Array<[Waiter, Failer]>];
      this.transport.get(key).then(
        (item) => {
          for (const [resolve] of waiters) resolve(item);
        },
        (error: unknown) => {
          for (const [, reject] of waiters) reject(error);
        },
      );
      return;
    }
    (this.transport.getMulti as NonNullable<Transport['getMulti']>)
      .call(this.transport, [...batch.keys()])
      .then(
        (items) => {
          for (const [key, waiters] of batch) {
            const item = items.get(key);
            for (const [resolve] of waiters) resolve(item);
          }
        },
        (error: unknown) => {
          for (const waiters of batch.values()) for (const [, reject] of waiters) reject(error);
        },
      );
  }
}
