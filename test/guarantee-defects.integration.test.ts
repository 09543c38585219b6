import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { describeGuaranteeDefects } from './guarantee-defects.shared';

let running: RunningMemcached | undefined;
const memcached = async () => {
  running ??= await startMemcached();
  return running;
};

describeGuaranteeDefects('memjs and a real memcached', async () => ({
  transport: () => memjsTransport({ timeout: 2000 }),
  servers: (await memcached()).servers,
  teardown: async () => {},
}));

describeGuaranteeDefects('meta and a real memcached', async () => ({
  transport: () => metaTransport({ timeout: 2000 }),
  servers: (await memcached()).servers,
  teardown: async () => {
    await running?.stop();
    running = undefined;
  },
}));
