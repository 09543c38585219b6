/** The TLS suite over both network transports, against the same `memcached -Z` servers. */
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { afterAll, beforeAll } from 'vitest';
import { describeTls, startTlsServers, type TlsServers } from './tls.shared';

let servers: TlsServers;
beforeAll(async () => {
  servers = await startTlsServers();
});
afterAll(async () => {
  await servers?.stop();
});

describeTls(
  'memjs',
  (options) => memjsTransport(options),
  () => servers,
);
describeTls(
  'meta',
  (options) => metaTransport(options),
  () => servers,
);
