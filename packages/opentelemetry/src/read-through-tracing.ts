import { factoryChannel, leaseWaitChannel } from '@lovely-memcached/core';
import { ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_MEMCACHED } from './semantic-conventions';
import type { Telemetry } from './telemetry';
import { subscribeTracedCalls } from './traced-calls';

const ATTRIBUTES = { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_MEMCACHED };

/**
 * `getOrSet`'s stampede protection made countable: factory runs (one per key across every caller when it
 * works) and callers that waited for that run instead. Counted as they start, so a hung factory shows up.
 */
export function countReadThrough(telemetry: Telemetry): () => void {
  const stops = [
    subscribeTracedCalls(factoryChannel, 'lovely-memcached:factory', {
      start: () => telemetry.instruments().factoryCalls.add(1, ATTRIBUTES),
      finish: () => {},
    }),
    subscribeTracedCalls(leaseWaitChannel, 'lovely-memcached:lease-wait', {
      start: () => telemetry.instruments().leaseWaits.add(1, ATTRIBUTES),
      finish: () => {},
    }),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
