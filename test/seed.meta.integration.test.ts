import { freePort, type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { describeSeedWalkthrough } from './seed-walkthrough';

describeSeedWalkthrough('meta commands and a real memcached', async () => {
  const running: RunningMemcached[] = [await startMemcached()];
  const unreachablePort = await freePort();
  return {
    transport: metaTransport(),
    servers: running[0]?.servers ?? [],
    unreachable: `127.0.0.1:${unreachablePort}`,
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    bringBackUnreachable: async () => {
      running.push(await startMemcached({ port: unreachablePort }));
    },
    teardown: async () => {
      await Promise.all(running.map((server) => server.stop()));
    },
  };
});
