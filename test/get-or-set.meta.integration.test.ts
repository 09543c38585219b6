import { freePort, startMemcached } from '@lovely-memcached/testing';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { describeGetOrSet } from './get-or-set.shared';

// The same tests as over `add`-based leases: with meta commands the leases are memcached's own (`mg … N`).
describeGetOrSet('meta commands (server-side leases) and a real memcached', async () => {
  const running = await startMemcached();
  const transport = metaTransport();
  if (transport(running.servers).leases === undefined) throw new Error('expected server-side leases');
  return {
    transport,
    servers: running.servers,
    unreachable: `127.0.0.1:${await freePort()}`,
    teardown: () => running.stop(),
  };
});

describeGetOrSet('classic commands (proxy: true, add-based leases) and a real memcached', async () => {
  const running = await startMemcached();
  return {
    transport: metaTransport({ proxy: true }),
    servers: running.servers,
    unreachable: `127.0.0.1:${await freePort()}`,
    teardown: () => running.stop(),
  };
});
