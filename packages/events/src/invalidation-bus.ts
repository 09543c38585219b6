/**
 * The invalidation bus: named clients (the seed's named zope utilities), subscribed handlers (the seed's
 * `provideHandler`), and `notify` (the seed's `event.notify`) that resolves once every handler has finished.
 *
 * Built on mitt. mitt calls handlers synchronously and drops what they return, so each subscribed handler is
 * wrapped: the wrapper hands the handler's promise to the `notify` call that is emitting, which awaits them all.
 *
 * Handlers and error listeners are user code: each call is isolated (a throw, a rejection, a broken thenable
 * never rejects `notify`, never stops the next listener, never becomes an unhandled rejection), and a failure
 * with no error listener to hear it becomes a process warning, once per kind of failure per bus.
 */
import { type InvalidateOptions, isThenable, type Key } from '@lovely-memcached/core';
import mitt, { type Emitter } from 'mitt';
import type { BusError } from './bus-errors';
import { busErrors, describeFailure } from './bus-errors';
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
  /** The kinds of failure this bus has already warned about (each is warned about once). */
  private readonly warned = new Set<string>();

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
        // Any thenable, not only a native Promise: Promise.resolve adopts it (a `then` that throws rejects).
        if (isThenable(result)) {
          this.collecting?.push(
            Promise.resolve(result).then(undefined, (error: unknown) =>
              this.report(busErrors.handlerFailed(event, error)),
            ),
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

  /**
   * Listens to what went wrong (failing clients, unknown cache names, failing handlers); returns the unsubscribe.
   * A listener that throws or rejects is reported as a process warning (it cannot report to itself).
   */
  onError(listener: (error: BusError) => unknown): () => void {
    const warnListenerFailed = (failure: unknown) =>
      this.warnOnce(
        'error-listener-failed',
        `an error listener of the bus failed: ${describeFailure(failure)}`,
      );
    const wrapper = (error: BusError) => {
      try {
        const result = listener(error);
        if (isThenable(result)) Promise.resolve(result).then(undefined, warnListenerFailed);
      } catch (failure) {
        warnListenerFailed(failure);
      }
    };
    this.emitter.on('error', wrapper);
    return () => this.emitter.off('error', wrapper);
  }

  /**
   * Reports a failure through the `error` event; never throws. With no error listener subscribed, the failure
   * becomes a process warning instead, once per kind (`error.type`) per bus, so it never vanishes silently.
   */
  report(error: BusError): void {
    if ((this.emitter.all.get('error')?.length ?? 0) === 0) {
      this.warnOnce(
        error.type,
        `${error.message} (no error listener on this InvalidationBus: subscribe one with bus.onError(listener) to see every failure; this warning is given once per kind of failure per bus)`,
      );
      return;
    }
    // Every listener is wrapped by onError, so emitting cannot throw.
    this.emitter.emit('error', error);
  }

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    process.emitWarning(`[lovely-memcached] InvalidationBus: ${message}`, {
      type: 'LovelyMemcachedWarning',
      code: 'LOVELY_MEMCACHED_BUS_ERROR',
    });
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
