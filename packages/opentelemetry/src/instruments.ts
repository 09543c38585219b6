import type { L1TraceInfo } from '@lovely-memcached/core';
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import {
  ATTR_RESULT,
  METRIC_DB_CLIENT_OPERATION_DURATION,
  METRIC_LOVELY_MEMCACHED_CACHE_READS,
  METRIC_LOVELY_MEMCACHED_COMMAND_DURATION,
  METRIC_LOVELY_MEMCACHED_FACTORY_CALLS,
  METRIC_LOVELY_MEMCACHED_L1_BYTES,
  METRIC_LOVELY_MEMCACHED_L1_EVICTIONS,
  METRIC_LOVELY_MEMCACHED_L1_READS,
  METRIC_LOVELY_MEMCACHED_LEASE_WAITS,
  METRIC_LOVELY_MEMCACHED_REPLAYED_DELETES,
  METRIC_LOVELY_MEMCACHED_SERVER_EVENTS,
} from './semantic-conventions';

/**
 * Read results, tallied here and reported through an observable counter when metrics are collected: a read is
 * one increment instead of an SDK measurement (which hashes its attributes each time), and reads are the most
 * frequent thing this package counts.
 */
export interface ReadTally {
  /** `attributes` must be one object per combination (they are the tally's keys). */
  add(attributes: Attributes): void;
}

export interface Instruments {
  operationDuration: Histogram;
  commandDuration: Histogram;
  reads: ReadTally;
  factoryCalls: Counter;
  leaseWaits: Counter;
  serverEvents: Counter;
  replayedDeletes: Counter;
  l1: L1Tally;
}

/** L1 as the traced reads of clients with the `l1` option report it. */
export interface L1Tally {
  record(info: L1TraceInfo): void;
}

/**
 * The conventions' buckets start at 1 ms, where a memcached round trip on a LAN ends: finer ones below, so a
 * p50 of 200 µs is not read as "under a millisecond".
 */
const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export function createInstruments(meter: Meter): Instruments {
  return {
    operationDuration: meter.createHistogram(METRIC_DB_CLIENT_OPERATION_DURATION, {
      description: 'Duration of lovely-memcached client operations.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    commandDuration: meter.createHistogram(METRIC_LOVELY_MEMCACHED_COMMAND_DURATION, {
      description: 'Duration of each request to one memcached server.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    reads: readTally(meter),
    l1: l1Tally(meter),
    factoryCalls: meter.createCounter(METRIC_LOVELY_MEMCACHED_FACTORY_CALLS, {
      description: 'getOrSet factory runs (cold fills and refreshes).',
      unit: '{call}',
    }),
    leaseWaits: meter.createCounter(METRIC_LOVELY_MEMCACHED_LEASE_WAITS, {
      description: "getOrSet callers that waited for another caller's value instead of running the factory.",
      unit: '{wait}',
    }),
    serverEvents: meter.createCounter(METRIC_LOVELY_MEMCACHED_SERVER_EVENTS, {
      description:
        'Servers going down, coming back up, refusing credentials; their keys going to the gutter, missed deletes replayed, flushed on return.',
      unit: '{event}',
    }),
    replayedDeletes: meter.createCounter(METRIC_LOVELY_MEMCACHED_REPLAYED_DELETES, {
      description: 'Deletes a server missed while unreachable, applied when it was back, before it was used.',
      unit: '{delete}',
    }),
  };
}

function readTally(meter: Meter): ReadTally {
  const counts = new Map<Attributes, number>();
  meter
    .createObservableCounter(METRIC_LOVELY_MEMCACHED_CACHE_READS, {
      description: 'Cache reads (query, getOrSet) by result: hit, miss or stale.',
      unit: '{read}',
    })
    .addCallback((observe) => {
      for (const [attributes, count] of counts) observe.observe(count, attributes);
    });
  return { add: (attributes) => counts.set(attributes, (counts.get(attributes) ?? 0) + 1) };
}

const L1_HIT: Attributes = Object.freeze({ [ATTR_RESULT]: 'hit' });
const L1_MISS: Attributes = Object.freeze({ [ATTR_RESULT]: 'miss' });

function l1Tally(meter: Meter): L1Tally {
  let hits = 0;
  let misses = 0;
  let seen = false;
  let bytes = 0;
  let evictions = 0;
  meter
    .createObservableCounter(METRIC_LOVELY_MEMCACHED_L1_READS, {
      description: 'Reads of clients with L1, by result: hit (answered from L1, no round trip) or miss.',
      unit: '{read}',
    })
    .addCallback((observe) => {
      if (!seen) return;
      observe.observe(hits, L1_HIT);
      observe.observe(misses, L1_MISS);
    });
  meter
    .createObservableGauge(METRIC_LOVELY_MEMCACHED_L1_BYTES, {
      description:
        'Bytes held by L1 (values and a fixed overhead per copy), as the last traced read saw them.',
      unit: 'By',
    })
    .addCallback((observe) => {
      if (seen) observe.observe(bytes);
    });
  meter
    .createObservableCounter(METRIC_LOVELY_MEMCACHED_L1_EVICTIONS, {
      description: 'L1 copies evicted to stay under maxBytes, as the last traced read saw it.',
      unit: '{copy}',
    })
    .addCallback((observe) => {
      if (seen) observe.observe(evictions);
    });
  return {
    record(info) {
      seen = true;
      if (info.hit) hits++;
      else misses++;
      bytes = info.bytes;
      evictions = Math.max(evictions, info.evictions);
    },
  };
}
