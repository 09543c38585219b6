import type { TracingChannel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { type OperationContext, operationChannels, type TracedOperation } from '@lovely-memcached/core';
import { type Attributes, diag, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { errorType } from './error-type';
import { type OperationScope, operationScope, parentContext } from './parent-context';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_LOVELY_MEMCACHED_HIT,
  ATTR_LOVELY_MEMCACHED_KEY,
  ATTR_LOVELY_MEMCACHED_L1_HIT,
  ATTR_LOVELY_MEMCACHED_STALE,
  ATTR_RESULT,
  DB_SYSTEM_NAME_VALUE_MEMCACHED,
} from './semantic-conventions';
import { serverAttributes } from './server-address';
import type { Telemetry } from './telemetry';
import { subscribeTracedCalls } from './traced-calls';

interface OperationState {
  span: Span;
  startedAt: number;
  /** Low-cardinality attributes shared by the span and the duration histogram. */
  attributes: Attributes;
}

/**
 * The attributes of an operation on a client's servers (the server only when there is one: else it varies by
 * key), built once per client and operation: this runs on every operation, and the SDK copies them anyway.
 */
const baseAttributesOf = new WeakMap<readonly string[], Map<TracedOperation, Attributes>>();
function baseAttributes(operation: TracedOperation, servers: readonly string[]): Attributes {
  let byOperation = baseAttributesOf.get(servers);
  if (byOperation === undefined) {
    byOperation = new Map();
    baseAttributesOf.set(servers, byOperation);
  }
  let attributes = byOperation.get(operation);
  if (attributes === undefined) {
    attributes = Object.freeze({
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_MEMCACHED,
      [ATTR_DB_OPERATION_NAME]: operation,
      ...(servers.length === 1 && servers[0] !== undefined ? serverAttributes(servers[0]) : {}),
    });
    byOperation.set(operation, attributes);
  }
  return attributes;
}

/** The read counter's attributes, one frozen object per operation and result. */
const readAttributes = new Map<string, Attributes>();
function readAttributesOf(operation: TracedOperation, result: 'hit' | 'miss' | 'stale'): Attributes {
  const name = `${operation} ${result}`;
  let attributes = readAttributes.get(name);
  if (attributes === undefined) {
    attributes = Object.freeze({
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_MEMCACHED,
      [ATTR_DB_OPERATION_NAME]: operation,
      [ATTR_RESULT]: result,
    });
    readAttributes.set(name, attributes);
  }
  return attributes;
}

function readResult(context: OperationContext): 'hit' | 'miss' | 'stale' | undefined {
  if (context.hit === undefined) return undefined;
  if (context.stale === true) return 'stale';
  return context.hit ? 'hit' : 'miss';
}

/**
 * A span per public operation (`memcached query`, ...), started as the operation starts; ended with its outcome
 * (`hit`, `stale`, the error), and its duration and read result counted. With `nest`, each operation's span is
 * carried through its async work (an AsyncLocalStorage bound to the channel's `start`) as the parent of the
 * requests to servers and of the operations inside a `getOrSet` factory. Returns the function that stops it all.
 */
export function traceOperations(telemetry: Telemetry, nest: boolean): () => void {
  const states = new WeakMap<OperationContext, OperationState>();

  const start = (context: OperationContext) => {
    const parent = parentContext();
    const attributes = baseAttributes(context.operation, context.servers);
    const namespaced = typeof context.ns === 'string' && context.ns !== '';
    const keyed = telemetry.config().captureKeys === true && context.memcachedKey !== undefined;
    const span = telemetry.tracer().startSpan(
      `memcached ${context.operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes:
          namespaced || keyed
            ? {
                ...attributes,
                ...(namespaced && { [ATTR_DB_NAMESPACE]: context.ns as string }),
                ...(keyed && { [ATTR_LOVELY_MEMCACHED_KEY]: context.memcachedKey as string }),
              }
            : attributes,
      },
      parent,
    );
    states.set(context, { span, startedAt: performance.now(), attributes });
    return { span, parent };
  };

  /** What the operation's async work carries: its span as the parent of what it starts. */
  const scope = (context: OperationContext): OperationScope => {
    const { span, parent } = start(context);
    return { context: trace.setSpan(parent, span), activeAtStart: trace.getSpan(parent) };
  };

  const finish = (context: OperationContext, failed: boolean, error: unknown) => {
    const state = states.get(context);
    if (state === undefined) return; // started before we subscribed
    states.delete(context);
    const { span, attributes } = state;
    const seconds = (performance.now() - state.startedAt) / 1000;
    if (context.hit !== undefined) span.setAttribute(ATTR_LOVELY_MEMCACHED_HIT, context.hit);
    if (context.stale !== undefined) span.setAttribute(ATTR_LOVELY_MEMCACHED_STALE, context.stale);
    if (context.l1 !== undefined) span.setAttribute(ATTR_LOVELY_MEMCACHED_L1_HIT, context.l1.hit);
    const instruments = telemetry.instruments();
    if (failed) {
      const type = errorType(error);
      span.setAttribute(ATTR_ERROR_TYPE, type);
      if (error instanceof Error) span.recordException(error);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      instruments.operationDuration.record(seconds, { ...attributes, [ATTR_ERROR_TYPE]: type });
    } else {
      instruments.operationDuration.record(seconds, attributes);
      const result = readResult(context);
      if (result !== undefined) {
        instruments.reads.add(readAttributesOf(context.operation, result));
      }
      if (context.l1 !== undefined) instruments.l1.record(context.l1);
    }
    span.end();
  };

  const stops = (Object.keys(operationChannels) as TracedOperation[]).map((operation) => {
    const channel = operationChannels[operation] as TracingChannel<unknown, OperationContext>;
    const name = `lovely-memcached:${operation}`;
    if (!nest) return subscribeTracedCalls(channel, name, { start, finish });
    const store = operationScope as Parameters<typeof channel.start.bindStore>[0];
    channel.start.bindStore(store, (context) => {
      // Whatever this throws would become an uncaught exception in the application.
      try {
        return scope(context);
      } catch (error) {
        diag.error('@lovely-memcached/opentelemetry: operation start failed', error);
        return operationScope.getStore();
      }
    });
    const unsubscribe = subscribeTracedCalls(channel, name, { finish });
    return () => {
      channel.start.unbindStore(store);
      unsubscribe();
    };
  });
  return () => {
    for (const stop of stops) stop();
  };
}
