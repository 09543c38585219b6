import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { describeUnstorableValues } from './unstorable-values.shared';

let running: RunningMemcached | undefined;
const memcached = async () => {
  running ??= await startMemcached();
  return running;
};

describeUnstorableValues('memjs and a real memcached', async () => ({
  transport: memjsTransport(),
  servers: (await memcached()).servers,
  teardown: async () => {},
}));

describeUnstorableValues('meta and a real memcached', async () => ({
  transport: metaTransport(),
  servers: (await memcached()).servers,
  teardown: async () => {
    await running?.stop();
    running = undefined;
  },
}));
