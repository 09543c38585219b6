import { channel } from 'node:diagnostics_channel';
import { MemcachedClient } from '@lovely-memcached/core';
import { freePort, startMemcached } from '@lovely-memcached/testing';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { expect, it } from 'vitest';
import { describeTracing } from './tracing.shared';

describeTracing('meta commands and a real memcached', async () => {
  const running = await startMemcached();
  return { transport: metaTransport(), servers: running.servers, teardown: () => running.stop() };
});

it('meta reports a server going down and coming back on lovely-memcached:server', async () => {
  const events: Array<Record<string, unknown>> = [];
  const listener = (event: unknown) => events.push(event as Record<string, unknown>);
  channel('lovely-memcached:server').subscribe(listener);
  const port = await freePort();
  const client = new MemcachedClient({
    transport: metaTransport({ timeout: 200, probeInterval: 50 }),
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
        transport: 'meta',
      },
      { type: 'server-up', server: `127.0.0.1:${port}`, transport: 'meta' },
    ]);
    await client.close();
    await server.stop();
  } finally {
    channel('lovely-memcached:server').unsubscribe(listener);
  }
});
