import type { TracingChannel, TracingChannelSubscribers } from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';

/** What a subscriber learns about one traced call. */
export interface TracedCallHandlers<C extends object> {
  start?(context: C): void;
  /** Once per call, when it has returned, resolved, thrown or rejected (`failed` then says so). */
  finish(context: C, failed: boolean, error: unknown): void;
}

/**
 * Runs `handler` so that nothing it throws reaches `diagnostics_channel`, which would rethrow it as an uncaught
 * exception in the application: telemetry must never take a request down.
 */
export function guarded<A extends unknown[]>(
  what: string,
  handler: (...args: A) => void,
): (...args: A) => void {
  return (...args) => {
    try {
      handler(...args);
    } catch (error) {
      diag.error(`@lovely-memcached/opentelemetry: ${what} failed`, error);
    }
  };
}

/**
 * Subscribes to a tracing channel whose calls may be synchronous (`traceSync`: `end` is the last event, with
 * `result` or `error` set) or asynchronous (`tracePromise`: `asyncEnd` is the last event; `end` only marks the
 * promise being returned). Returns the unsubscribe function.
 */
export function subscribeTracedCalls<C extends object>(
  channel: TracingChannel<unknown, C>,
  name: string,
  handlers: TracedCallHandlers<C>,
): () => void {
  const finish = guarded(`${name} finish`, (context: C) =>
    handlers.finish(context, 'error' in context, (context as { error?: unknown }).error),
  );
  const ignore = () => {};
  const subscribers: TracingChannelSubscribers<C> = {
    start: handlers.start ? guarded(`${name} start`, handlers.start) : ignore,
    end: (context) => {
      // A promise still pending carries neither: its asyncEnd follows.
      if ('result' in context || 'error' in context) finish(context);
    },
    asyncStart: ignore,
    asyncEnd: finish,
    error: ignore,
  };
  channel.subscribe(subscribers);
  return () => channel.unsubscribe(subscribers);
}
