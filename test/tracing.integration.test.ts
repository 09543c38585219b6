import { channel } from 'node:diagnostics_channel';
import { MemcachedClient } from '@lovely-memcached/core';
import { freePort, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { expect, it } from 'vitest';
import { describeTracing } from './tracing.shared';

describeTracing('memjs and a real memcached', async () => {
  const running = await startMemcached();
  return { transport: memjsTransport(), servers: running.servers, teardown: () => running.stop() };
});

it('memjs reports a server going down and coming back on lovely-memcached:server', async () => {
  const events: Array<Record<string, unknown>> = [];
  const listener = (event: unknown) => events.push(event as Record<string, unknown>);
  channel('lovely-memcached:server').subscribe(listener);
  const port = await freePort();
  const client = new MemcachedClient({
    transport: memjsTransport({ timeout: 200, probeInterval: 50 }),
    servers: [`127.0.0.1:${port}`],
  });
  try {
    await client.query('k');
    const server = await startMemcached({ port });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(events).toEqual([
      {
        type: 'server-down',
        server: `127.0.0.1:${port}`,
        reason: 'connect',
        code: 'ECONNREFUSED',
        transport: 'memjs',
      },
      { type: 'server-up', server: `127.0.0.1:${port}`, transport: 'memjs' },
    ]);
    await client.close();
    await server.stop();
  } finally {
    channel('lovely-memcached:server').unsubscribe(listener);
  }
});
