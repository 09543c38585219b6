import { MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describeEventsSeed } from './events-seed';

describeEventsSeed('an in-memory client', async () => {
  const cacheUtil1 = new MemcachedClient({ transport: memoryTransport() });
  return { cacheUtil1, teardown: () => cacheUtil1.close() };
});
