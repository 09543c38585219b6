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
 * What the network transports (transport-kit) publish on the same channel when a server is lost: not in core's
 * `ServerEvent` (yet), so declared here by their shape.
 */
type ServerLossEvent =
  | { type: 'gutter'; server: string; gutter: string[]; transport: string }
  | { type: 'replayed'; server: string; deletes: number; ms: number; transport: string }
  | { type: 'flushed'; server: string; reason: string; transport: string };

/**
 * Servers going down, coming back, refusing credentials, and what losing one does (`gutter`, `replayed`,
 * `flushed`): counted (an alert on `server-down` needs no traces), the deletes replayed summed, and each added
 * as an event to the span of the operation that ran into it, when there is one.
 */
export function countServerEvents(telemetry: Telemetry): () => void {
  const listener = guarded('lovely-memcached:server', (message: unknown) => {
    const event = message as ServerEvent | ServerLossEvent;
    const attributes = {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_MEMCACHED,
      [ATTR_LOVELY_MEMCACHED_SERVER_EVENT]: event.type,
      [ATTR_LOVELY_MEMCACHED_TRANSPORT]: event.transport,
      ...serverAttributes(event.server),
    };
    const instruments = telemetry.instruments();
    instruments.serverEvents.add(1, attributes);
    if (event.type === 'replayed') {
      instruments.replayedDeletes.add(event.deletes, {
        [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_MEMCACHED,
        [ATTR_LOVELY_MEMCACHED_TRANSPORT]: event.transport,
        ...serverAttributes(event.server),
      });
    }
    const span = trace.getSpan(parentContext());
    if (span?.isRecording() !== true) return;
    span.addEvent(`memcached ${event.type}`, {
      ...attributes,
      ...(event.type === 'server-down' && {
        'lovely_memcached.server.reason': event.reason,
        ...(event.code !== undefined && { 'lovely_memcached.server.code': event.code }),
      }),
      ...(event.type === 'gutter' && { 'lovely_memcached.server.gutter': event.gutter }),
      ...(event.type === 'replayed' && {
        'lovely_memcached.server.replayed_deletes': event.deletes,
        'lovely_memcached.server.replay_ms': event.ms,
      }),
      ...(event.type === 'flushed' && { 'lovely_memcached.server.flush_reason': event.reason }),
    });
  });
  serverChannel.subscribe(listener);
  return () => {
    serverChannel.unsubscribe(listener);
  };
}
