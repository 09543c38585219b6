import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describeUnstorableValues } from './unstorable-values.shared';

describeUnstorableValues('the memory transport', async () => ({
  transport: memoryTransport(),
  servers: ['127.0.0.1:11211'],
  teardown: async () => {},
}));
