/**
 * The tour's promise against a real memcached: it takes away what it wrote and nothing else.
 *
 * `ownKeys(factory, servers)` wraps a transport factory and notes every memcached key a write goes to — the
 * entries themselves and the bookkeeping the client adds (dependency tokens, reverse indexes, key-tracking
 * records). A key is the tour's own when the server did not hold it before the tour first wrote to it; one that
 * was already there (the key-tracking registry that every tracking client on the server appends to) is another
 * application's and stays (so does a key the server could not be asked about). `deleteOwnKeys()` deletes the
 * tour's own keys.
 */
import type { Transport, TransportFactory } from '@lovely-memcached/core';

export interface OwnKeys {
  /** Use this factory for every client. */
  transport: TransportFactory;
  /** Deletes every key the tour created; resolves to how many it created and how many it only added to. */
  deleteOwnKeys(): Promise<{ created: number; shared: number }>;
}

export function ownKeys(factory: TransportFactory, servers: readonly string[]): OwnKeys {
  // One transport that always points at the configured servers, for the "was it there?" checks and the final
  // deletes (the tour's clients may point elsewhere for a while, e.g. at a server that is down).
  const home = factory(servers);
  const seen = new Map<string, Promise<void>>();
  const created = new Set<string>();
  const shared = new Set<string>();

  const firstWrite = (key: string): Promise<void> => {
    let checked = seen.get(key);
    if (checked === undefined) {
      checked = home.get(key).then(
        (item) => {
          // A miss from a server that could not be asked proves nothing: such a key is not deleted.
          const absent = item === undefined && home.reachable?.(key) !== false;
          (absent ? created : shared).add(key);
        },
        () => {}, // a key the transport refuses: the write itself is refused too
      );
      seen.set(key, checked);
    }
    return checked;
  };

  const transport: TransportFactory = (servers) => {
    const inner = factory(servers);
    const wrapped: Transport = {
      specificationVersion: inner.specificationVersion,
      get name() {
        return inner.name;
      },
      get capabilities() {
        return inner.capabilities;
      },
      leases: inner.leases,
      get: (key) => inner.get(key),
      set: (key, value, options) => firstWrite(key).then(() => inner.set(key, value, options)),
      add: (key, value, options) => firstWrite(key).then(() => inner.add(key, value, options)),
      append: (key, value) => firstWrite(key).then(() => inner.append(key, value)),
      delete: (key, options) => inner.delete(key, options),
      incr: (key, delta) => firstWrite(key).then(() => inner.incr(key, delta)),
      touch: (key, exptime) => inner.touch(key, exptime),
      flush: () => inner.flush(),
      stats: () => inner.stats(),
      close: () => inner.close(),
    };
    const getMulti = inner.getMulti?.bind(inner);
    if (getMulti) wrapped.getMulti = getMulti;
    const cas = inner.cas?.bind(inner);
    if (cas) {
      wrapped.cas = (key, value, token, options) =>
        firstWrite(key).then(() => cas(key, value, token, options));
    }
    const reachable = inner.reachable?.bind(inner);
    if (reachable) wrapped.reachable = reachable;
    return wrapped;
  };

  return {
    transport,
    async deleteOwnKeys() {
      await Promise.all(seen.values());
      await Promise.all([...created].map((key) => home.delete(key)));
      await home.close();
      return { created: created.size, shared: shared.size };
    },
  };
}
