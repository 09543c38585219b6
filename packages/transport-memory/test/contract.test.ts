import { describeTransportContract } from '@lovely-memcached/testing/contract';
import { memoryTransport } from '../src';

let offset = 0;
const memory = memoryTransport({ now: () => Date.now() + offset });

describeTransportContract('memory', () => memory(['127.0.0.1:11211']), {
  advanceTime: (ms) => {
    offset += ms;
  },
  now: () => Date.now() + offset,
  makeUnreachableTransport: () => {
    memory.down('127.0.0.1:1');
    return memory(['127.0.0.1:1']);
  },
});
