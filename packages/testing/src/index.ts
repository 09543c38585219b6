export { type ChaosFaults, type ChaosTransportFactory, chaosTransport } from './chaos-transport';
export { describeTransportContract, type TransportContractCapabilities } from './describe-transport-contract';
export {
  freePort,
  type RunningMemcached,
  type StartMemcachedOptions,
  startMemcached,
} from './start-memcached';
export { TestMemcachedClient, type TestMemcachedClientOptions } from './test-client';
