import { MemcachedClient } from '@lovely-memcached/core';
import { freePort, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { expect, it } from 'vitest';
import { captureWarnings } from '../../../test/support/expected-warnings';
import { describeInstrumentation } from './instrumentation.shared';
import { otelHarness } from './otel-harness';

describeInstrumentation('memjs and a real memcached', async () => {
  const running = await startMemcached();
  return { transport: memjsTransport(), servers: running.servers, teardown: () => running.stop() };
});

it('counts a server found down and back, and notes it on the span of the read that found it', async () => {
  const otel = otelHarness();
  const port = await freePort();
  const client = new MemcachedClient({
    transport: memjsTransport({ timeout: 200, probeInterval: 50 }),
    servers: [`127.0.0.1:${port}`],
  });
  const server = {
    'server.address': '127.0.0.1',
    'server.port': port,
    'lovely_memcached.transport': 'memjs',
  };
  const events = 'lovely_memcached.server.events';
  // The server is not there at first: the transport says once that none of its servers ever answered.
  const warnings = captureWarnings('LOVELY_MEMCACHED_UNREACHABLE');
  try {
    expect(await client.query('k')).toBeUndefined();
    expect(await otel.count(events, { ...server, 'lovely_memcached.server.event': 'server-down' })).toBe(1);
    const [query] = otel.spans().filter((s) => s.name === 'memcached query');
    expect(query?.events.map((e) => [e.name, e.attributes?.['lovely_memcached.server.code']])).toEqual([
      ['memcached server-down', 'ECONNREFUSED'],
    ]);

    const running = await startMemcached({ port });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await otel.count(events, { ...server, 'lovely_memcached.server.event': 'server-up' })).toBe(1);
    await running.stop();
  } finally {
    warnings.restore();
    await client.close();
    await otel.shutdown();
  }
});

it('counts a lost server: its keys going to the gutter, the deletes it missed replayed, then back', async () => {
  const otel = otelHarness();
  const [primary, gutter] = await Promise.all([startMemcached(), startMemcached()]);
  let restarted: Awaited<ReturnType<typeof startMemcached>> | undefined;
  const client = new MemcachedClient({
    transport: memjsTransport({ timeout: 200, probeInterval: 50, gutter: { servers: gutter.servers } }),
    servers: primary.servers,
  });
  const server = {
    'server.address': '127.0.0.1',
    'server.port': primary.port,
    'lovely_memcached.transport': 'memjs',
  };
  const events = 'lovely_memcached.server.events';
  try {
    await client.set('k', 1);
    await primary.stop();
    expect(await client.query('k')).toBeUndefined(); // found down: its keys go to the gutter from now on
    await client.set('k', 2); // to the gutter, and remembered for the lost server
    expect(await client.query('k')).toBe(2);
    restarted = await startMemcached({ port: primary.port });
    await new Promise((resolve) => setTimeout(resolve, 400));
    for (const type of ['server-down', 'gutter', 'replayed', 'server-up']) {
      expect(await otel.count(events, { ...server, 'lovely_memcached.server.event': type }), type).toBe(1);
    }
    expect(await otel.count('lovely_memcached.server.replayed_deletes', server)).toBeGreaterThanOrEqual(1);
  } finally {
    await client.close();
    await otel.shutdown();
    await Promise.all([restarted?.stop(), gutter.stop(), primary.stop()]);
  }
});
