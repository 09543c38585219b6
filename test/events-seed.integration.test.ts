import { MemcachedClient } from '@lovely-memcached/core';
import { startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { describeEventsSeed } from './events-seed';

describeEventsSeed('a real-memcached client beside a TestMemcachedClient', async () => {
  const server = await startMemcached();
  const cacheUtil1 = new MemcachedClient({ transport: memjsTransport(), servers: server.servers });
  return {
    cacheUtil1,
    teardown: async () => {
      await cacheUtil1.close();
      await server.stop();
    },
  };
});
