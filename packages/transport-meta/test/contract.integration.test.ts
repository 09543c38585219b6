import { freePort, type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { describeTransportContract } from '@lovely-memcached/testing/contract';
import { afterAll } from 'vitest';
import { expectWarnings } from '../../../test/support/expected-warnings';
import { metaTransport } from '../src';

// The unreachable-server tests use a transport whose only server never answers: it says so once, as expected.
expectWarnings('LOVELY_MEMCACHED_UNREACHABLE');

let server: RunningMemcached | undefined;
afterAll(async () => {
  await server?.stop();
});

describeTransportContract(
  'meta commands against a real memcached',
  async () => {
    server = await startMemcached();
    return metaTransport()(server.servers);
  },
  {
    makeUnreachableTransport: async () => metaTransport({ timeout: 300 })([`127.0.0.1:${await freePort()}`]),
    unreachableDeadlineMs: 1000,
  },
);
