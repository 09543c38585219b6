import { startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { describeCompression } from './compression.shared';

describeCompression('memjs and a real memcached', async () => {
  const running = await startMemcached();
  return { transport: memjsTransport(), servers: running.servers, teardown: () => running.stop() };
});
