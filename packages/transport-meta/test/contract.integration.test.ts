import { freePort, type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { describeTransportContract } from '@lovely-memcached/testing/contract';
import { afterAll } from 'vitest';
import { metaTransport } from '../src';

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
