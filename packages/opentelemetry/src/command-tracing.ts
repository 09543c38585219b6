import { performance } from 'node:perf_hooks';
import { type CommandContext, commandChannel } from '@lovely-memcached/core';
import { type Attributes, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { errorType } from './error-type';
import { parentContext } from './parent-context';
import {
  ATTR_DB_OPERATION_BATCH_SIZE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  DB_SYSTEM_NAME_VALUE_MEMCACHED,
} from './semantic-conventions';
import { serverAttributes } from './server-address';
import type { Telemetry } from './telemetry';
import { subscribeTracedCalls } from './traced-calls';

interface CommandState {
  span: Span | undefined;
  startedAt: number;
  attributes: Attributes;
}

/**
 * Each request a transport makes to one server (`lovely-memcached:command`): a span named by the conventions'
 * `{db.operation.name} {server.address}:{server.port}`, child of the operation that caused it, and its duration
 * per server (latency per server is what tells a slow server from a slow client).
 */
export function traceCommands(telemetry: Telemetry): () => void {
  const states = new WeakMap<CommandContext, CommandState>();
  return subscribeTracedCalls(commandChannel, 'lovely-memcached:command', {
    start(context) {
      const attributes: Attributes = {
        [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_MEMCACHED,
        [ATTR_DB_OPERATION_NAME]: context.command,
        ...serverAttributes(context.server),
      };
      const span =
        telemetry.config().commandSpans === false
          ? undefined
          : telemetry.tracer().startSpan(
              `${context.command} ${context.server}`,
              {
                kind: SpanKind.CLIENT,
                attributes: {
                  ...attributes,
                  // The conventions count a batch from two operations on.
                  ...(context.keys > 1 && { [ATTR_DB_OPERATION_BATCH_SIZE]: context.keys }),
                },
              },
              parentContext(),
            );
      states.set(context, { span, startedAt: performance.now(), attributes });
    },
    finish(context, failed, error) {
      const state = states.get(context);
      if (state === undefined) return;
      states.delete(context);
      const seconds = (performance.now() - state.startedAt) / 1000;
      const { span } = state;
      let attributes = state.attributes;
      if (failed) {
        const type = errorType(error);
        attributes = { ...attributes, [ATTR_ERROR_TYPE]: type };
        span?.setAttribute(ATTR_ERROR_TYPE, type);
        if (error instanceof Error) span?.recordException(error);
        span?.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
      }
      telemetry.instruments().commandDuration.record(seconds, attributes);
      span?.end();
    },
  });
}
