/**
 * The seam between L1 and whatever carries invalidations between processes (Redis pub/sub in
 * `@lovely-memcached/bus-redis`, an in-process one in `@lovely-memcached/testing`). It moves opaque bytes; the
 * cache encodes and decodes them (messages.ts). A bus that is down, slow or loses messages only makes other
 * processes' L1s notice later: never later than `maxStale`, which bounds every copy regardless of the bus.
 */
export interface L1Bus {
  /** Sends a message to every subscriber of the channel (other processes, and possibly this one). */
  publish(message: Uint8Array): void | PromiseLike<void>;
  /** Delivers every message published by anyone from now on; may be called once per cache using the bus. */
  subscribe(listener: (message: Uint8Array) => void): void | PromiseLike<void>;
  /** Stops delivering and releases connections (called by the client's `close()`). */
  close(): void | PromiseLike<void>;
}
