/** The seed walkthrough against a real memcached, over each network transport. */
import type { TransportFactory } from '@lovely-memcached/core';
import { freePort, type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { describeSeedWalkthrough } from './seed-walkthrough';

const TRANSPORTS: Array<[string, () => TransportFactory]> = [
  ['memjs and a real memcached', () => memjsTransport()],
  ['meta commands and a real memcached', () => metaTransport()],
];

for (const [name, transport] of TRANSPORTS) {
  describeSeedWalkthrough(name, async () => {
    const running: RunningMemcached[] = [await startMemcached()];
    const unreachablePort = await freePort();
    return {
      transport: transport(),
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
}
