import { freePort, type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { describeTransportContract } from '@lovely-memcached/testing/contract';
import { afterAll } from 'vitest';
import { expectWarnings } from '../../../test/support/expected-warnings';
import { memjsTransport } from '../src';

// The unreachable-server tests use a transport whose only server never answers: it says so once, as expected.
expectWarnings('LOVELY_MEMCACHED_UNREACHABLE');

let server: RunningMemcached | undefined;
afterAll(async () => {
  await server?.stop();
});

describeTransportContract(
  'memjs against a real memcached',
  async () => {
    server = await startMemcached();
    return memjsTransport()(server.servers);
  },
  {
    makeUnreachableTransport: async () => memjsTransport({ timeout: 300 })([`127.0.0.1:${await freePort()}`]),
    unreachableDeadlineMs: 1000,
  },
);
