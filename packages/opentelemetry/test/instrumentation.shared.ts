/**
 * The instrumentation's contract, run over the memory transport and a real memcached: spans by the database
 * conventions (no value ever, keys only when asked), command spans under their operation, the metrics, errors,
 * and `disable()`.
 */
import { MemcachedClient, operationChannels, type TransportFactory } from '@lovely-memcached/core';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { otelHarness, parentOf } from './otel-harness';

export interface Environment {
  transport: TransportFactory;
  servers: string[];
  teardown(): Promise<void>;
}

const isOperation = (span: ReadableSpan) => span.name.startsWith('memcached ');
const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

export function describeInstrumentation(name: string, setup: () => Promise<Environment>): void {
  describe(`LovelyMemcachedInstrumentation over ${name}`, () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    /** A harness, an environment and a client, all undone after the test. */
    const start = async (config: Parameters<typeof otelHarness>[0] = {}, clientOptions = {}) => {
      const otel = otelHarness(config);
      cleanups.push(() => otel.shutdown());
      const env = await setup();
      cleanups.push(() => env.teardown());
      const client = new MemcachedClient({
        transport: env.transport,
        servers: env.servers,
        ...clientOptions,
      });
      cleanups.push(() => client.close());
      const [host, port] = [env.servers[0]?.replace(/:\d+$/, ''), Number(env.servers[0]?.split(':').at(-1))];
      return { otel, env, client, host, port };
    };

    it('spans each operation by the database conventions, with its outcome, and records no value or key', async () => {
      const { otel, client, host, port } = await start({}, { defaultNS: 'traced' });
      const secret = 'the value must never be recorded';
      const memcachedKey = await client.set('page', secret);
      await client.query('page');
      await client.query('missing');
      await client.invalidate('page');

      const operations = otel.spans().filter(isOperation);
      expect(operations.map((s) => s.name)).toEqual([
        'memcached set',
        'memcached query',
        'memcached query',
        'memcached invalidate',
      ]);
      for (const span of operations) {
        expect(span.kind).toBe(SpanKind.CLIENT);
        expect(span.attributes).toMatchObject({
          'db.system.name': 'memcached',
          'db.operation.name': span.name.slice('memcached '.length),
          'db.namespace': 'traced',
          'server.address': host,
          'server.port': port,
        });
        expect(span.attributes).not.toHaveProperty('lovely_memcached.key');
        expect(span.status.code).toBe(SpanStatusCode.UNSET);
      }
      expect(operations.slice(1, 3).map((s) => s.attributes['lovely_memcached.hit'])).toEqual([true, false]);
      const recorded = JSON.stringify(
        otel.spans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
      );
      expect(recorded).not.toContain(secret);
      expect(recorded).not.toContain(memcachedKey);
    });

    it('puts each request to a server under the operation that made it', async () => {
      const { otel, client, host, port } = await start();
      await client.set('a', 1);
      await Promise.all([client.query('a'), client.query('b')]);

      const spans = otel.spans();
      const [set] = named(spans, 'memcached set');
      const queries = named(spans, 'memcached query');
      const commands = spans.filter((s) => !isOperation(s));
      const setCommand = commands.find((c) => c.attributes['db.operation.name'] === 'set');
      expect(setCommand?.name).toBe(`set ${host}:${port}`);
      expect(parentOf(setCommand as ReadableSpan)).toBe(set?.spanContext().spanId);
      expect(setCommand?.spanContext().traceId).toBe(set?.spanContext().traceId);
      expect(setCommand?.kind).toBe(SpanKind.CLIENT);
      expect(setCommand?.attributes).toMatchObject({
        'db.system.name': 'memcached',
        'server.address': host,
        'server.port': port,
      });
      // Both reads went out as one request; it belongs to the query that sent it.
      const batch = commands.find((c) => c.attributes['db.operation.name'] === 'getMulti');
      expect(batch?.attributes['db.operation.batch.size']).toBe(2);
      expect(queries.map((q) => q.spanContext().spanId)).toContain(parentOf(batch as ReadableSpan));
      // No command span is left without its operation.
      const operationIds = new Set(spans.filter(isOperation).map((s) => s.spanContext().spanId));
      for (const command of commands) expect(operationIds).toContain(parentOf(command));
    });

    it('puts the memcached key on operation spans with captureKeys', async () => {
      const { otel, client } = await start({ captureKeys: true });
      const memcachedKey = await client.set('page', 'v');
      await client.query('page');
      expect(
        otel
          .spans()
          .filter(isOperation)
          .map((s) => s.attributes['lovely_memcached.key']),
      ).toEqual([memcachedKey, memcachedKey]);
    });

    it('nests reads inside a getOrSet factory under it, and under a span the application makes active', async () => {
      const contextManager = new AsyncLocalStorageContextManager().enable();
      context.setGlobalContextManager(contextManager);
      cleanups.push(() => {
        context.disable();
      });
      const { otel, client } = await start();
      const tracer = otel.tracerProvider.getTracer('app');
      await tracer.startActiveSpan('GET /page', async (request) => {
        await client.getOrSet('outer', async () => {
          await client.query('inner');
          // The application's own span inside the factory is the parent of what it does.
          await tracer.startActiveSpan('render', async (render) => {
            await client.query('rendered');
            render.end();
          });
          return 1;
        });
        request.end();
      });
      const spans = otel.spans();
      const id = (name: string) => named(spans, name)[0]?.spanContext().spanId;
      const queries = named(spans, 'memcached query');
      const [getOrSet] = named(spans, 'memcached getOrSet');
      expect(parentOf(getOrSet as ReadableSpan)).toBe(id('GET /page'));
      expect(parentOf(queries[0] as ReadableSpan)).toBe(id('memcached getOrSet'));
      expect(parentOf(queries[1] as ReadableSpan)).toBe(id('render'));
      expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    });

    it('with commandSpans: false, spans operations only (siblings in a factory) and still times each server', async () => {
      const { otel, client, host } = await start({ commandSpans: false });
      await client.getOrSet('outer', async () => (await client.query('inner')) ?? 1);
      const spans = otel.spans();
      expect(spans.map((s) => s.name).sort()).toEqual(['memcached getOrSet', 'memcached query']);
      expect(spans.map(parentOf)).toEqual([undefined, undefined]);
      const commands = await otel.points('lovely_memcached.command.duration');
      expect(commands.map((p) => p.attributes['server.address'])).toContain(host);

      // Changed at run time, it takes effect at once.
      otel.instrumentation.setConfig({});
      await client.query('inner');
      const later = otel.spans().slice(2);
      const [query] = named(later, 'memcached query');
      const requests = later.filter((s) => !isOperation(s));
      expect(requests.map(parentOf)).not.toHaveLength(0);
      expect(requests.map(parentOf)).toEqual(requests.map(() => query?.spanContext().spanId));
    });

    it('measures durations and counts hits, misses, stale reads, factory runs and lease waits', async () => {
      let offset = 0;
      const { otel, env, client, host } = await start({}, { now: () => Date.now() + offset });
      await client.query('nothing');
      await client.set('there', 1);
      await client.query('there');
      await client.getOrSet('k', () => 1, { lifetime: 10, grace: 60 });
      await client.getOrSet('k', () => 2, { lifetime: 10, grace: 60, earlyRefresh: 0 });
      offset = 11_000;
      await client.getOrSet('k', () => 3, { lifetime: 10, grace: 60 });
      await new Promise((resolve) => setTimeout(resolve, 50)); // the refresh, in the background

      const reads = 'lovely_memcached.cache.reads';
      expect(await otel.count(reads, { 'db.operation.name': 'query', result: 'hit' })).toBe(1);
      expect(await otel.count(reads, { 'db.operation.name': 'query', result: 'miss' })).toBe(1);
      for (const result of ['hit', 'miss', 'stale']) {
        expect(await otel.count(reads, { 'db.operation.name': 'getOrSet', result })).toBe(1);
      }
      expect(await otel.count('lovely_memcached.factory.calls')).toBe(2); // the cold fill and the refresh

      const durations = await otel.points('db.client.operation.duration');
      const getOrSet = durations.find((p) => p.attributes['db.operation.name'] === 'getOrSet');
      expect(getOrSet?.attributes).toMatchObject({ 'db.system.name': 'memcached', 'server.address': host });
      const histogram = getOrSet?.value as Histogram | undefined;
      expect(histogram?.count).toBe(3);
      expect(histogram?.sum).toBeGreaterThan(0);
      expect(histogram?.max).toBeLessThan(5); // seconds, not milliseconds
      const commands = await otel.points('lovely_memcached.command.duration');
      expect(commands.map((p) => p.attributes['server.address'])).toContain(host);

      // A second client on the same servers waits for the first one's factory instead of running its own.
      const other = new MemcachedClient({ transport: env.transport, servers: env.servers });
      cleanups.push(() => other.close());
      let began = () => {};
      const running = new Promise<void>((resolve) => {
        began = resolve;
      });
      const slow = client.getOrSet('lease', () => {
        began(); // the lease is held from here on
        return new Promise((resolve) => setTimeout(() => resolve('A'), 300));
      });
      await running;
      let ran = false;
      const waited = other.getOrSet('lease', () => {
        ran = true;
        return 'B';
      });
      expect(await Promise.all([slow, waited])).toEqual(['A', 'A']);
      expect(ran).toBe(false);
      expect(await otel.count('lovely_memcached.lease.waits')).toBe(1);
      expect(await otel.count('lovely_memcached.factory.calls')).toBe(3);
    });

    it('records a failing operation as an error on its span and in its duration', async () => {
      const { otel, client } = await start();
      const never = () => new Promise<number>((resolve) => setTimeout(() => resolve(1), 300));
      await expect(client.getOrSet('slow', never, { hardTimeout: 20 })).rejects.toMatchObject({
        code: 'ERR_FACTORY_TIMEOUT',
      });
      const [span] = named(otel.spans(), 'memcached getOrSet');
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
      expect(span?.attributes['error.type']).toBe('ERR_FACTORY_TIMEOUT');
      expect(span?.events.map((e) => e.name)).toContain('exception');
      const durations = await otel.points('db.client.operation.duration');
      expect(durations.map((p) => p.attributes['error.type'])).toContain('ERR_FACTORY_TIMEOUT');
    });

    it('stops on disable() (no span, no metric, no subscriber left) and starts again on enable()', async () => {
      const { otel, client } = await start();
      await client.query('a');
      const before = otel.spans().length;
      expect(before).toBeGreaterThan(0);
      otel.instrumentation.disable();
      expect(operationChannels.query.hasSubscribers).toBe(false);
      await client.query('a');
      await client.set('b', 1);
      expect(otel.spans()).toHaveLength(before);
      expect(await otel.count('lovely_memcached.cache.reads')).toBe(1);

      otel.instrumentation.enable();
      otel.instrumentation.enable(); // twice is once: one span per operation
      await client.query('a');
      expect(named(otel.spans(), 'memcached query')).toHaveLength(2);
      expect(await otel.count('lovely_memcached.cache.reads')).toBe(2);
      expect(trace.getActiveSpan()).toBeUndefined();
    });
  });
}
