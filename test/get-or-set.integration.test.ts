import { freePort, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { describeGetOrSet } from './get-or-set.shared';

describeGetOrSet('memjs and a real memcached', async () => {
  const running = await startMemcached();
  return {
    transport: memjsTransport(),
    servers: running.servers,
    unreachable: `127.0.0.1:${await freePort()}`,
    teardown: () => running.stop(),
  };
});
