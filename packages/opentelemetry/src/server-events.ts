import { type ServerEvent, serverChannel } from '@lovely-memcached/core';
import { trace } from '@opentelemetry/api';
import { parentContext } from './parent-context';
import {
  ATTR_DB_SYSTEM_NAME,
  ATTR_LOVELY_MEMCACHED_SERVER_EVENT,
  ATTR_LOVELY_MEMCACHED_TRANSPORT,
  DB_SYSTEM_NAME_VALUE_MEMCACHED,
} from './semantic-conventions';
import { serverAttributes } from './server-address';
import type { Telemetry } from './telemetry';
import { guarded } from './traced-calls';

/**
 * Servers going down, coming back and refusing credentials: counted (an alert on `server-down` needs no
 * traces), and added as an event to the span of the operation that ran into it, when there is one.
 */
export function countServerEvents(telemetry: Telemetry): () => void {
  const listener = guarded('lovely-memcached:server', (message: unknown) => {
    const event = message as ServerEvent;
    const attributes = {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_MEMCACHED,
      [ATTR_LOVELY_MEMCACHED_SERVER_EVENT]: event.type,
      [ATTR_LOVELY_MEMCACHED_TRANSPORT]: event.transport,
      ...serverAttributes(event.server),
    };
    telemetry.instruments().serverEvents.add(1, attributes);
    const span = trace.getSpan(parentContext());
    if (span?.isRecording() !== true) return;
    span.addEvent(`memcached ${event.type}`, {
      ...attributes,
      ...(event.type === 'server-down' && {
        'lovely_memcached.server.reason': event.reason,
        ...(event.code !== undefined && { 'lovely_memcached.server.code': event.code }),
      }),
    });
  });
  serverChannel.subscribe(listener);
  return () => {
    serverChannel.unsubscribe(listener);
  };
}
