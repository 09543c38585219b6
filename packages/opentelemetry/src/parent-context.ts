import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, context, type Span, trace } from '@opentelemetry/api';

/** What an operation leaves for the work it starts: its span's context, and the span active when it began. */
export interface OperationScope {
  context: Context;
  activeAtStart: Span | undefined;
}

/**
 * The operation each piece of async work belongs to. Bound to the operation channels' `start` channel, so the
 * client's own async chain (transport requests, a `getOrSet` factory and the reads inside it) carries it; the
 * OpenTelemetry context manager cannot be told about it without wrapping the client's functions, which this
 * package does not do.
 */
export const operationScope = new AsyncLocalStorage<OperationScope>();

/**
 * The parent for a new span: the enclosing cache operation, unless the application made another span active
 * since that operation began (a span of its own inside a factory); then that one, as it would be without us.
 */
export function parentContext(): Context {
  const active = context.active();
  const scope = operationScope.getStore();
  if (scope !== undefined && trace.getSpan(active) === scope.activeAtStart) return scope.context;
  return active;
}
