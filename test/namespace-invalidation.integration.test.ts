import { startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { describeNamespaceInvalidation } from './namespace-invalidation.shared';

describeNamespaceInvalidation('memjs and real memcached (two servers)', async () => {
  const servers = [await startMemcached(), await startMemcached()];
  return {
    transport: memjsTransport(),
    servers: servers.map((s) => s.servers[0] as string),
    teardown: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
});
