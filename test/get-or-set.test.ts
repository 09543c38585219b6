import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describeGetOrSet } from './get-or-set.shared';

describeGetOrSet('the memory transport', async () => {
  const memory = memoryTransport();
  const unreachable = '127.0.0.1:8125';
  memory.down(unreachable);
  return {
    transport: memory,
    servers: ['127.0.0.1:11211'],
    unreachable,
    exactExpiry: true,
    teardown: async () => {},
  };
});
