/**
 * What the bus reports through its `error` event instead of rejecting `notify`: payloads built by small
 * factories, and the event type derived from them, so a new kind is one function.
 */
import type { InvalidateCacheEvent } from './invalidate-cache-event';

/**
 * What failed, as text, whatever was thrown: user code can throw anything, even an object whose conversion to
 * a string throws (`Object.create(null)`), and describing a failure must not become a failure of its own.
 */
export function describeFailure(failure: unknown): string {
  if (failure instanceof Error) return failure.message;
  try {
    return String(failure);
  } catch {
    return Object.prototype.toString.call(failure);
  }
}

export const busErrors = {
  /** `cacheName` names no registered client. */
  unknownCache: (event: InvalidateCacheEvent, cacheName: string) => ({
    type: 'unknown-cache' as const,
    cacheName,
    event,
    message: `no client registered as ${JSON.stringify(cacheName)}: register it with bus.register(name, client)`,
  }),
  /** A registered client's `invalidate` rejected. */
  invalidateFailed: (event: InvalidateCacheEvent, cacheName: string, error: unknown) => ({
    type: 'invalidate-failed' as const,
    cacheName,
    event,
    error,
    message: `invalidating in ${JSON.stringify(cacheName)} failed: ${describeFailure(error)}`,
  }),
  /** A subscribed handler threw or rejected. */
  handlerFailed: (event: InvalidateCacheEvent, error: unknown) => ({
    type: 'handler-failed' as const,
    event,
    error,
    message: `an invalidation handler failed: ${describeFailure(error)}`,
  }),
};

export type BusError = ReturnType<(typeof busErrors)[keyof typeof busErrors]>;
