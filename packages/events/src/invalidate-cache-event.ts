import type { Key, Namespace } from '@lovely-memcached/core';

export interface InvalidateCacheEventInit {
  /** The registered client to invalidate in; every registered client when omitted. */
  cacheName?: string;
  /** The entry to remove. */
  key?: Key;
  /** The namespace; each client's `defaultNS` when omitted. */
  ns?: Namespace;
  /** Whether `key` is a raw key. */
  raw?: boolean;
  /** Remove every entry set with any of these dependencies. */
  dependencies?: readonly unknown[];
}

/** "Invalidate this in the caches": the seed's zope event, delivered with `bus.notify(event)`. */
export class InvalidateCacheEvent {
  readonly cacheName: string | undefined;
  readonly key: Key | undefined;
  readonly ns: Namespace | undefined;
  readonly raw: boolean | undefined;
  readonly dependencies: readonly unknown[] | undefined;

  constructor(init: InvalidateCacheEventInit = {}) {
    this.cacheName = init.cacheName;
    this.key = init.key;
    this.ns = init.ns;
    this.raw = init.raw;
    this.dependencies = init.dependencies;
  }
}
