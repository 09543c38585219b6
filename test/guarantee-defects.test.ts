import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describeGuaranteeDefects } from './guarantee-defects.shared';

describeGuaranteeDefects('the memory transport', async () => {
  const memory = memoryTransport();
  return { transport: () => memory, servers: ['127.0.0.1:11211'], teardown: async () => {} };
});
