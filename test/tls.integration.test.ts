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

// memjs tells a close before any reply apart: a TLS-only port, or a server that refused the client certificate.
describeTls(
  'memjs',
  (options) => memjsTransport(options),
  () => servers,
  {
    closedBeforeReply: 'closed-before-reply',
  },
);
describeTls(
  'meta',
  (options) => metaTransport(options),
  () => servers,
  { closedBeforeReply: 'closed' },
);
