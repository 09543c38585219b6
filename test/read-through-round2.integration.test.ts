import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { describeReadThroughRoundTwo } from './read-through-round2.shared';

let running: RunningMemcached | undefined;
const memcached = async () => {
  running ??= await startMemcached();
  return running;
};

describeReadThroughRoundTwo('memjs and a real memcached', async () => ({
  transport: () => memjsTransport({ timeout: 2000 }),
  servers: (await memcached()).servers,
  teardown: async () => {},
}));

describeReadThroughRoundTwo('meta and a real memcached', async () => ({
  transport: () => metaTransport({ timeout: 2000 }),
  servers: (await memcached()).servers,
  teardown: async () => {
    await running?.stop();
    running = undefined;
  },
}));
