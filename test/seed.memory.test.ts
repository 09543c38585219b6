import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describeSeedWalkthrough } from './seed-walkthrough';

describeSeedWalkthrough('the memory transport', async () => {
  let offset = 0;
  const memory = memoryTransport({ now: () => Date.now() + offset });
  const unreachable = '127.0.0.1:8125';
  memory.down(unreachable);
  return {
    transport: memory,
    servers: ['127.0.0.1:11211'],
    unreachable,
    elapse: async (ms) => {
      offset += ms;
    },
    bringBackUnreachable: async () => memory.up(unreachable),
    teardown: async () => {},
  };
});
