import { MemcachedClient, type MemcachedClientOptions } from '@lovely-memcached/core';
import { type MemoryTransportFactory, memoryTransport } from '@lovely-memcached/transport-memory';

export type TestMemcachedClientOptions = Omit<MemcachedClientOptions, 'transport'> & {
  /** @default a fresh `memoryTransport()` of its own */
  transport?: MemcachedClientOptions['transport'];
};

/**
 * A `MemcachedClient` over the in-memory transport, for tests: same options, same behaviour (expiry included,
 * driven by `Date.now`, so vitest's fake timers move it), no server needed.
 */
export class TestMemcachedClient extends MemcachedClient {
  /** The in-memory servers this client made for itself (undefined when a `transport` was passed). */
  readonly memory: MemoryTransportFactory | undefined;

  constructor(options: TestMemcachedClientOptions = {}) {
    const memory = options.transport === undefined ? memoryTransport() : undefined;
    super({ ...options, transport: options.transport ?? (memory as MemoryTransportFactory) });
    this.memory = memory;
  }
}
