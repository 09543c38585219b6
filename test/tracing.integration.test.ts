import { channel } from 'node:diagnostics_channel';
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { freePort, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { describe, expect, it } from 'vitest';
import { expectWarnings } from './support/expected-warnings';
import { describeTracing } from './tracing.shared';

type Options = { timeout?: number; probeInterval?: number };
const transports: Array<[string, string, (options?: Options) => TransportFactory]> = [
  ['memjs', 'memjs and a real memcached', (options) => memjsTransport(options)],
  ['meta', 'meta commands and a real memcached', (options) => metaTransport(options)],
];

for (const [, label, makeTransport] of transports) {
  describeTracing(label, async () => {
    const running = await startMemcached();
    return { transport: makeTransport(), servers: running.servers, teardown: () => running.stop() };
  });
}

describe.each(transports)('%s', (name, _label, makeTransport) => {
  // The server is not there at first: the transport says once that none of its servers ever answered.
  expectWarnings('LOVELY_MEMCACHED_UNREACHABLE');

  it('reports a server going down and coming back on lovely-memcached:server', async () => {
    const events: Array<Record<string, unknown>> = [];
    const listener = (event: unknown) => events.push(event as Record<string, unknown>);
    channel('lovely-memcached:server').subscribe(listener);
    const port = await freePort();
    const client = new MemcachedClient({
      transport: makeTransport({ timeout: 200, probeInterval: 50 }),
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
          transport: name,
        },
        { type: 'server-up', server: `127.0.0.1:${port}`, transport: name },
      ]);
      await client.close();
      await server.stop();
    } finally {
      channel('lovely-memcached:server').unsubscribe(listener);
    }
  });
});
