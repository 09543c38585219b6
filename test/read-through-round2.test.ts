import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describeReadThroughRoundTwo } from './read-through-round2.shared';

describeReadThroughRoundTwo('the memory transport', async () => {
  const memory = memoryTransport();
  return { transport: () => memory, servers: ['127.0.0.1:11211'], teardown: async () => {} };
});
