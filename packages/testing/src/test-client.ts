import { MemcachedClient, type MemcachedClientOptions, type TransportFactory } from '@lovely-memcached/core';
import { type MemoryTransportFactory, memoryTransport } from '@lovely-memcached/transport-memory';

export type TestMemcachedClientOptions<F extends TransportFactory = TransportFactory> = Omit<
  MemcachedClientOptions,
  'transport'
> & {
  /** @default a fresh `memoryTransport()` of its own */
  transport?: F;
};

/**
 * What `memory` is for a client over the transport `F`: the memory transport itself when `F` is one (the
 * client's own, or one given to share), else a memory transport only if the factory given turns out to be one.
 */
export type MemoryOf<F extends TransportFactory> = F extends MemoryTransportFactory
  ? F
  : MemoryTransportFactory | undefined;

/**
 * A `MemcachedClient` over the in-memory transport, for tests: same options, same behaviour (expiry included,
 * driven by `Date.now`, so vitest's and Jest's fake timers move it, with their defaults), no server needed.
 *
 * `F` is the transport's type, inferred from `transport` (a memory transport of its own without one), so
 * `memory` is typed as always there when the client is over a memory transport: `cache.memory.down(address)`.
 */
export class TestMemcachedClient<
  F extends TransportFactory = MemoryTransportFactory,
> extends MemcachedClient {
  /**
   * The in-memory servers under this client, with their test controls (`down`, `up`, `restart`, `store`): the
   * memory transport it made for itself, or the one given as `transport`; undefined over another transport.
   */
  readonly memory: MemoryOf<F>;

  constructor(options: TestMemcachedClientOptions<F> = {}) {
    const { transport, ...rest } = options;
    const memory =
      transport === undefined ? memoryTransport() : isMemoryTransport(transport) ? transport : undefined;
    super({ ...rest, transport: transport ?? (memory as MemoryTransportFactory) });
    this.memory = memory as MemoryOf<F>;
  }
}

function isMemoryTransport(factory: TransportFactory): factory is TransportFactory & MemoryTransportFactory {
  const candidate = factory as Partial<MemoryTransportFactory>;
  return (
    typeof candidate.down === 'function' &&
    typeof candidate.up === 'function' &&
    typeof candidate.restart === 'function' &&
    typeof candidate.store === 'function' &&
    typeof candidate.isDown === 'function'
  );
}
