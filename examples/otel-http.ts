/**
 * The HTTP pages example (./http-pages.ts) under OpenTelemetry: `LovelyMemcachedInstrumentation` turns every cache
 * operation into a span and a few metrics. This script serves the pages, sends itself some traffic (reads, a
 * change, reads again), and prints what a dashboard would show: the hit ratio, and latency per operation and per
 * server. Exporters are in memory here; the package README shows OTLP and Prometheus.
 *
 * Run it: `pnpm --filter @lovely-memcached/examples exec tsx --conditions=@lovely-memcached/source otel-http.ts`
 * (MEMCACHED_SERVERS=host:port for a real memcached; pages another process left in its `pages` namespace count
 * as hits).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { MemcachedClient } from '@lovely-memcached/core';
import { LovelyMemcachedInstrumentation } from '@lovely-memcached/opentelemetry';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createPagesServer, type User } from './http-pages';

// Telemetry first: in an application this is the OpenTelemetry setup file, loaded before anything else.
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
// The interval never elapses here: the summary flushes the reader itself.
const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
registerInstrumentations({
  instrumentations: [new LovelyMemcachedInstrumentation()],
  tracerProvider,
  meterProvider,
});

const servers = process.env.MEMCACHED_SERVERS?.split(',').filter(Boolean);
const cache = new MemcachedClient(
  servers?.length ? { transport: memjsTransport(), servers } : { transport: memoryTransport() },
);
const users = new Map<string, User>([
  ['42', { id: '42', name: 'Ada' }],
  ['7', { id: '7', name: 'Alan' }],
]);
const server = createPagesServer(cache, users);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// Traffic: a few rounds of reads, one change (its pages are rendered anew), one more round.
const ROUNDS = 5;
const pages = ['/team', '/users/42', '/users/7'];
let requests = 0;
const get = async (path: string) => {
  requests++;
  await (await fetch(base + path)).text();
};
for (let round = 0; round < ROUNDS; round++) for (const page of pages) await get(page);
await fetch(`${base}/users/42`, { method: 'PUT', body: 'Ada Lovelace' });
for (const page of pages) await get(page);

// The summary: hit ratio and durations from the metrics, percentiles from the spans.
await reader.forceFlush();
const points = (name: string) =>
  (metrics.getMetrics().at(-1)?.scopeMetrics ?? [])
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as Array<DataPoint<number | Histogram>>);
const reads = (result: string) =>
  points('lovely_memcached.cache.reads')
    .filter((point) => point.attributes.result === result)
    .reduce((sum, point) => sum + (point.value as number), 0);
const [hits, stale, misses] = [reads('hit'), reads('stale'), reads('miss')];
const count = (name: string) => points(name).reduce((sum, point) => sum + (point.value as number), 0);

const finished = spans.getFinishedSpans();
const milliseconds = (span: ReadableSpan) => span.duration[0] * 1e3 + span.duration[1] / 1e6;
const percentile = (values: number[], p: number) =>
  values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] ?? 0;
const row = (label: string, calls: number, mean: number, durations: number[]) =>
  `  ${label.padEnd(28)}${String(calls).padStart(6)}${mean.toFixed(3).padStart(10)}` +
  `${percentile([...durations], 50)
    .toFixed(3)
    .padStart(10)}${percentile([...durations], 95)
    .toFixed(3)
    .padStart(10)}`;
const header = `  ${''.padEnd(28)}${'calls'.padStart(6)}${'mean ms'.padStart(10)}${'p50 ms'.padStart(10)}${'p95 ms'.padStart(10)}`;

const lines = [
  `${requests} page requests, ${server.renders} pages rendered`,
  // A stale page served within grace is served from the cache too.
  `cache reads: ${hits} hits, ${stale} stale, ${misses} misses, hit ratio ${((100 * (hits + stale)) / (hits + stale + misses)).toFixed(1)}%`,
  `getOrSet: ${count('lovely_memcached.factory.calls')} renders (factory runs), ${count('lovely_memcached.lease.waits')} waits for another caller's render`,
  'operations (db.client.operation.duration):',
  header,
];
for (const point of points('db.client.operation.duration')) {
  const operation = String(point.attributes['db.operation.name']);
  const { count, sum = 0 } = point.value as Histogram;
  const durations = finished.filter((s) => s.name === `memcached ${operation}`).map(milliseconds);
  lines.push(row(operation, count, (sum / count) * 1e3, durations));
}
lines.push('requests to servers (lovely_memcached.command.duration):', header);
for (const point of points('lovely_memcached.command.duration')) {
  const { attributes } = point;
  const label = `${attributes['db.operation.name']} ${attributes['server.address']}:${attributes['server.port']}`;
  const { count, sum = 0 } = point.value as Histogram;
  const durations = finished.filter((s) => s.name === label).map(milliseconds);
  lines.push(row(label, count, (sum / count) * 1e3, durations));
}
const operationIds = new Set(
  finished.filter((s) => s.name.startsWith('memcached ')).map((s) => s.spanContext().spanId),
);
const commands = finished.filter((s) => !s.name.startsWith('memcached '));
const nested = commands.filter((s) => operationIds.has(s.parentSpanContext?.spanId ?? '')).length;
lines.push(
  `spans: ${finished.length}; requests to servers under their operation's span: ${nested}/${commands.length}`,
);
console.log(lines.join('\n'));

// Leave a real memcached as found: every page this run rendered depends on one of the two users.
await cache.invalidate(undefined, { ns: 'pages', dependencies: ['user:42', 'user:7'] });
server.close();
await cache.close();
await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
