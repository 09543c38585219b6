// The main entry imports no test runner, so it works under any of them (node --test, Jest, Mocha, vitest) and
// from CommonJS. The vitest contract suite is the separate entry `@lovely-memcached/testing/contract`.
export { type ChaosFaults, type ChaosTransportFactory, chaosTransport } from './chaos-transport';
export { InProcessBus, inProcessBus } from './in-process-bus';
export { acceptsConnections, freePort } from './ports';
export {
  type RunningMemcached,
  type StartMemcachedOptions,
  startMemcached,
} from './start-memcached';
export { type RunningRedis, type StartRedisOptions, startRedis } from './start-redis';
export { makeTestCertificates, type TestCertificates } from './test-certificates';
export { type MemoryOf, TestMemcachedClient, type TestMemcachedClientOptions } from './test-client';
