import { startMemcached } from '@lovely-memcached/testing';
import { expect, it } from 'vitest';
import { expectSummary, runOtelExample } from './otel-http.shared';

it('the OpenTelemetry example measures a real memcached, and leaves it as found', async () => {
  const memcached = await startMemcached();
  try {
    const server = memcached.servers[0] as string;
    expectSummary(await runOtelExample(server), server);
    // It took its pages away: a second run starts cold and counts the same.
    const again = await runOtelExample(server);
    expect(again).toContain('cache reads: 13 hits, 0 stale, 5 misses');
  } finally {
    await memcached.stop();
  }
}, 120_000);
