/** L1 (issue 24) as OpenTelemetry sees it: hits and misses counted, bytes and evictions observed, hit on the span. */
import { MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { expect, it } from 'vitest';
import { otelHarness } from './otel-harness';

it('counts L1 hits and misses, observes its bytes and evictions, and marks the span', async () => {
  const otel = otelHarness();
  try {
    const client = new MemcachedClient({
      transport: memoryTransport(),
      servers: ['127.0.0.1:11211'],
      l1: { maxBytes: '4kb', maxStale: '1m' },
    });
    for (let i = 0; i < 10; i++) await client.set(`k${i}`, 'x'.repeat(1000));
    for (let i = 0; i < 10; i++) await client.query(`k${i}`); // 10 misses, evicting as they fill
    await client.query('k9'); // a hit
    await client.getOrSet('k9', () => 'unused'); // another
    expect(await otel.count('lovely_memcached.l1.reads', { result: 'hit' })).toBe(2);
    expect(await otel.count('lovely_memcached.l1.reads', { result: 'miss' })).toBe(10);
    const [bytes] = await otel.points('lovely_memcached.l1.bytes');
    expect(bytes?.value).toBeGreaterThan(0);
    expect(bytes?.value).toBeLessThanOrEqual(4096);
    expect(await otel.count('lovely_memcached.l1.evictions')).toBeGreaterThan(0);
    const queries = otel.spans().filter((span) => span.name === 'memcached query');
    expect(queries.at(-1)?.attributes['lovely_memcached.l1.hit']).toBe(true);
    expect(queries.at(0)?.attributes['lovely_memcached.l1.hit']).toBe(false);
    await client.close();
  } finally {
    await otel.shutdown();
  }
});
