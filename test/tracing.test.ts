import { channel } from 'node:diagnostics_channel';
import { MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { expect, it } from 'vitest';
import { describeTracing } from './tracing.shared';

describeTracing('the memory transport', async () => ({
  transport: memoryTransport(),
  servers: ['127.0.0.1:11211'],
  teardown: async () => {},
}));

it('memory servers taken down and back are reported on lovely-memcached:server', async () => {
  const events: unknown[] = [];
  const listener = (event: unknown) => events.push(event);
  channel('lovely-memcached:server').subscribe(listener);
  try {
    const memory = memoryTransport();
    const client = new MemcachedClient({ transport: memory, servers: ['127.0.0.1:11211'] });
    memory.down('127.0.0.1:11211');
    memory.up('127.0.0.1:11211');
    expect(events).toEqual([
      { type: 'server-down', server: '127.0.0.1:11211', reason: 'down', transport: 'memory' },
      { type: 'server-up', server: '127.0.0.1:11211', transport: 'memory' },
    ]);
    await client.close();
  } finally {
    channel('lovely-memcached:server').unsubscribe(listener);
  }
});
