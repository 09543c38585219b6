/**
 * The invalidation bus: named clients (the seed's named zope utilities), subscribed handlers (the seed's
 * `provideHandler`), and `notify` (the seed's `event.notify`) that resolves once every handler has finished.
 *
 * Built on mitt. mitt calls handlers synchronously and drops what they return, so each subscribed handler is
 * wrapped: the wrapper hands the handler's promise to the `notify` call that is emitting, which awaits them all.
 */
import type { InvalidateOptions, Key } from '@lovely-memcached/core';
import mitt, { type Emitter } from 'mitt';
import type { BusError } from './bus-errors';
import { busErrors } from './bus-errors';
import type { InvalidateCacheEvent } from './invalidate-cache-event';

/** What the bus needs of a client: `MemcachedClient`, `TestMemcachedClient` or anything with `invalidate`. */
export interface InvalidatingClient {
  invalidate(key?: Key, options?: InvalidateOptions): Promise<void>;
}

export type InvalidationHandler = (event: InvalidateCacheEvent, bus: InvalidationBus) => unknown;

type BusEvents = {
  invalidate: InvalidateCacheEvent;
  error: BusError;
};

export class InvalidationBus {
  private readonly emitter: Emitter<BusEvents> = mitt<BusEvents>();
  private readonly registered = new Map<string, InvalidatingClient>();
  private readonly wrappers = new Map<InvalidationHandler, (event: InvalidateCacheEvent) => void>();
  /** The promises of the `notify` currently emitting (emit is synchronous, so one at a time). */
  private collecting: Array<Promise<unknown>> | undefined;

  /** Registers a client under a name; a second registration under the same name replaces the first. */
  register(name: string, client: InvalidatingClient): this {
    this.registered.set(name, client);
    return this;
  }

  unregister(name: string): boolean {
    return this.registered.delete(name);
  }

  /** The registered clients by name. */
  clients(): ReadonlyMap<string, InvalidatingClient> {
    return this.registered;
  }

  /** Subscribes a handler; subscribing the same handler twice is the same as once. */
  on(handler: InvalidationHandler): this {
    if (this.wrappers.has(handler)) return this;
    const wrapper = (event: InvalidateCacheEvent) => {
      try {
        const result = handler(event, this);
        if (result instanceof Promise) {
          this.collecting?.push(
            result.catch((error: unknown) => this.report(busErrors.handlerFailed(event, error))),
          );
        }
      } catch (error) {
        this.report(busErrors.handlerFailed(event, error));
      }
    };
    this.wrappers.set(handler, wrapper);
    this.emitter.on('invalidate', wrapper);
    return this;
  }

  off(handler: InvalidationHandler): this {
    const wrapper = this.wrappers.get(handler);
    if (wrapper !== undefined) this.emitter.off('invalidate', wrapper);
    this.wrappers.delete(handler);
    return this;
  }

  /** Listens to what went wrong (failing clients, unknown cache names, failing handlers); returns the unsubscribe. */
  onError(listener: (error: BusError) => void): () => void {
    this.emitter.on('error', listener);
    return () => this.emitter.off('error', listener);
  }

  /** Reports a failure through the `error` event; never throws. */
  report(error: BusError): void {
    try {
      this.emitter.emit('error', error);
    } catch {
      // A throwing error listener must not turn a report into a rejection of notify().
    }
  }

  /** Delivers the event to every subscribed handler; resolves once all of them have settled. Never rejects. */
  async notify(event: InvalidateCacheEvent): Promise<void> {
    const pending: Array<Promise<unknown>> = [];
    const outer = this.collecting;
    this.collecting = pending;
    try {
      this.emitter.emit('invalidate', event);
    } finally {
      this.collecting = outer;
    }
    await Promise.all(pending);
  }
}
