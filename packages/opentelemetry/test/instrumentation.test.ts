import { readFileSync } from 'node:fs';
import { MemcachedClient, operationChannels } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { afterEach, expect, it } from 'vitest';
import { LovelyMemcachedInstrumentation } from '../src';
import { describeInstrumentation } from './instrumentation.shared';
import { otelHarness } from './otel-harness';

describeInstrumentation('the memory transport', async () => ({
  transport: memoryTransport(),
  servers: ['127.0.0.1:11211'],
  teardown: async () => {},
}));

const instrumentations: LovelyMemcachedInstrumentation[] = [];
afterEach(() => {
  for (const instrumentation of instrumentations.splice(0)) instrumentation.disable();
});

it('hooks no module: it only subscribes, and only once enabled', () => {
  const instrumentation = new LovelyMemcachedInstrumentation({ enabled: false });
  instrumentations.push(instrumentation);
  expect(instrumentation.getModuleDefinitions()).toEqual([]);
  expect(operationChannels.query.hasSubscribers).toBe(false);
  instrumentation.enable();
  expect(operationChannels.query.hasSubscribers).toBe(true);
});

it('reports its package name and version as the instrumentation scope', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const instrumentation = new LovelyMemcachedInstrumentation();
  instrumentations.push(instrumentation);
  expect([instrumentation.instrumentationName, instrumentation.instrumentationVersion]).toEqual([
    manifest.name,
    manifest.version,
  ]);
});

it('counts servers going down and coming back', async () => {
  const otel = otelHarness();
  const memory = memoryTransport();
  const client = new MemcachedClient({ transport: memory, servers: ['127.0.0.1:11211'] });
  memory.down('127.0.0.1:11211');
  memory.up('127.0.0.1:11211');
  const events = 'lovely_memcached.server.events';
  const server = {
    'server.address': '127.0.0.1',
    'server.port': 11211,
    'lovely_memcached.transport': 'memory',
  };
  expect(await otel.count(events, { ...server, 'lovely_memcached.server.event': 'server-down' })).toBe(1);
  expect(await otel.count(events, { ...server, 'lovely_memcached.server.event': 'server-up' })).toBe(1);
  await client.close();
  await otel.shutdown();
});

it('never lets a failing tracer reach the application', async () => {
  const broken: Tracer = {
    startSpan: () => {
      throw new Error('tracer broke');
    },
    startActiveSpan: () => {
      throw new Error('tracer broke');
    },
  };
  const provider: TracerProvider = { getTracer: () => broken };
  const instrumentation = new LovelyMemcachedInstrumentation();
  instrumentations.push(instrumentation);
  instrumentation.setTracerProvider(provider);
  const client = new MemcachedClient({ transport: memoryTransport(), servers: ['127.0.0.1:11211'] });
  await client.set('k', 'v');
  expect(await client.query('k')).toBe('v');
  expect(await client.getOrSet('g', () => 1)).toBe(1);
  // Node would rethrow a subscriber's error on the next tick, as an uncaught exception.
  await new Promise((resolve) => setImmediate(resolve));
  await client.close();
});
