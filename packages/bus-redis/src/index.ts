/**
 * An L1 bus on Redis pub/sub (`@lovely-memcached/core`'s `L1Bus`): each process's invalidations reach every
 * other process's near cache within milliseconds. It carries invalidations only (memcached keys and token keys
 * in a compact binary form), never values.
 *
 * A Redis that is down at start, goes away or hangs never throws into the cache: publishes fail fast (no offline
 * queue, a command timeout) and are counted, the subscriber reconnects and resubscribes by itself, one process
 * warning says so, and `onEvent` reports `bus-down` / `bus-up`. Meanwhile every L1 copy still expires after the
 * client's `maxStale`: a lost message makes coherence slower, never unbounded.
 */
import { type L1Bus, warnOnce } from '@lovely-memcached/core';
import { Redis, type RedisOptions } from 'ioredis';

export const DEFAULT_CHANNEL = 'lovely-memcached:l1';

export type RedisBusEvent =
  | { type: 'bus-down'; connection: 'publisher' | 'subscriber'; reason: string }
  | { type: 'bus-up'; connection: 'publisher' | 'subscriber' };

interface CommonOptions {
  /** The pub/sub channel; clients sharing memcached servers share one. @default 'lovely-memcached:l1' */
  channel?: string;
  /** Told when a connection to Redis is lost or back. Errors it throws are reported, never propagated. */
  onEvent?: (event: RedisBusEvent) => void;
  /** How long a publish may wait for Redis, in ms, before it counts as failed. @default 1000 */
  commandTimeout?: number;
}

export interface RedisBusUrlOptions extends CommonOptions {
  /** `redis://host:port` (or `rediss://` for TLS). */
  url: string;
  /** More ioredis options for both connections. */
  redisOptions?: RedisOptions;
}

export interface RedisBusClientOptions extends CommonOptions {
  /** An ioredis client of the application: used to publish, and `duplicate()`d to subscribe; never closed here. */
  client: Redis;
}

export type RedisBusOptions = RedisBusUrlOptions | RedisBusClientOptions;

export interface RedisBus extends L1Bus {
  /** Whether the subscriber connection is up (messages from other processes arrive). */
  readonly connected: boolean;
  /** Publishes that failed (Redis down, hung or refusing). */
  readonly failedPublishes: number;
}

export function redisBus(options: RedisBusOptions): RedisBus {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('redisBus needs { url } or { client }');
  }
  const channel = options.channel ?? DEFAULT_CHANNEL;
  const commandTimeout = options.commandTimeout ?? 1000;
  const connectionOptions: RedisOptions = {
    // Reconnect forever, backing off to 2 s: the bus comes back by itself.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout,
    autoResubscribe: false,
    lazyConnect: false,
  };
  let publisher: Redis;
  let subscriber: Redis;
  let ownsPublisher: boolean;
  if ('client' in options && options.client !== undefined) {
    publisher = options.client;
    ownsPublisher = false;
    subscriber = options.client.duplicate(connectionOptions);
  } else if ('url' in options && typeof options.url === 'string') {
    const extra = options.redisOptions ?? {};
    publisher = new Redis(options.url, { ...connectionOptions, ...extra });
    subscriber = new Redis(options.url, { ...connectionOptions, ...extra });
    ownsPublisher = true;
  } else {
    throw new TypeError('redisBus needs { url: "redis://host:port" } or { client: an ioredis client }');
  }

  const listeners = new Set<(message: Uint8Array) => void>();
  let subscriberUp = false;
  let closed = false;
  let failedPublishes = 0;
  const state = { publisher: true, subscriber: true };

  const report = (event: RedisBusEvent) => {
    if (options.onEvent === undefined) return;
    try {
      const result: unknown = options.onEvent(event);
      if (
        result !== null &&
        typeof result === 'object' &&
        typeof (result as PromiseLike<unknown>).then === 'function'
      ) {
        (result as PromiseLike<unknown>).then(undefined, (error: unknown) =>
          warnOnce('@lovely-memcached/bus-redis: onEvent failed', error),
        );
      }
    } catch (error) {
      warnOnce('@lovely-memcached/bus-redis: onEvent failed', error);
    }
  };
  const down = (connection: 'publisher' | 'subscriber', reason: string) => {
    if (closed || !state[connection]) return;
    state[connection] = false;
    warnOnce(
      '@lovely-memcached/bus-redis: Redis is unreachable; L1 copies fall back to expiring after maxStale until it is back',
      new Error(reason),
    );
    report({ type: 'bus-down', connection, reason });
  };
  const up = (connection: 'publisher' | 'subscriber') => {
    if (closed || state[connection]) return;
    state[connection] = true;
    report({ type: 'bus-up', connection });
  };

  // An `error` event without a listener would crash the process: every one is handled.
  publisher.on('error', (error: Error) => down('publisher', error.message));
  if (ownsPublisher) {
    publisher.on('close', () => down('publisher', 'connection closed'));
    publisher.on('ready', () => up('publisher'));
  }
  subscriber.on('error', (error: Error) => down('subscriber', error.message));
  subscriber.on('close', () => {
    subscriberUp = false;
    down('subscriber', 'connection closed');
  });
  subscriber.on('ready', () => {
    // Subscribed again on every (re)connection: autoResubscribe would skip a subscribe that never succeeded.
    subscriber.subscribe(channel).then(
      () => {
        subscriberUp = true;
        up('subscriber');
      },
      (error: Error) => down('subscriber', error.message),
    );
  });
  subscriber.on('messageBuffer', (from: Buffer, message: Buffer) => {
    if (from.toString() !== channel) return;
    for (const listener of listeners) {
      try {
        listener(message);
      } catch (error) {
        warnOnce('@lovely-memcached/bus-redis: a subscriber threw', error);
      }
    }
  });

  return {
    get connected() {
      return subscriberUp;
    },
    get failedPublishes() {
      return failedPublishes;
    },
    publish(message: Uint8Array): Promise<void> {
      if (closed) return Promise.resolve();
      const bytes = Buffer.isBuffer(message)
        ? message
        : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
      try {
        return publisher.publish(channel, bytes).then(
          () => undefined,
          (error: Error) => {
            failedPublishes++;
            down('publisher', error.message);
            throw error;
          },
        );
      } catch (error) {
        failedPublishes++;
        return Promise.reject(error);
      }
    },
    subscribe(listener: (message: Uint8Array) => void): void {
      listeners.add(listener);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      listeners.clear();
      subscriber.disconnect();
      if (ownsPublisher) publisher.disconnect();
    },
  };
}
