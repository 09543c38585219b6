import { EventEmitter } from 'node:events';
import {
  CacheError,
  isCacheError,
  MemcachedClient,
  type MemcachedClientOptions,
  warnOnce,
} from '@lovely-memcached/core';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { clientNamespace } from './client-namespace';
import { isAlive, storable } from './envelope';
import { lifetimeOf } from './lifetime';

/** What Keyv and its tools read from `store.opts`; the compliance suite also writes to it. */
export interface KeyvLovelyMemcachedOpts {
  /** Always `'lovely-memcached'`. */
  dialect: string;
  /** The servers, comma-separated, as `MEMCACHED_SERVERS` would give them. */
  url: string;
  [option: string]: unknown;
}

/** One entry of `setMany`, as Keyv passes it: the key prefixed, the value serialized, the ttl in ms. */
export interface KeyvSetEntry {
  key: string;
  value: unknown;
  ttl?: number | undefined;
}

/** An adapter operation that failed, reported once its result is settled. */
interface Failure {
  error: unknown;
  key: string;
}

/**
 * A Keyv storage adapter over a `MemcachedClient`: `new Keyv({ store: new KeyvLovelyMemcached(client) })`.
 *
 * Each Keyv namespace is a client namespace (`keyv:<namespace>`), so `clear()` clears it alone in one round trip.
 * Like the client, it never throws for an unreachable server (reads miss, writes resolve `false`); anything
 * unexpected is emitted as an `error` event (Keyv forwards it to its own) and the call resolves as a miss.
 */
export class KeyvLovelyMemcached extends EventEmitter implements KeyvStoreAdapter {
  /** The client underneath: use it directly for what Keyv has no words for (dependencies, `getOrSet`, stats). */
  readonly client: MemcachedClient;
  opts: KeyvLovelyMemcachedOpts;

  private readonly ownsClient: boolean;
  private currentNs: string | undefined;
  private namespaceOfNs: string | undefined;
  private keyvNamespace: string | undefined;
  /** A Keyv is attaching: it adds its `error` listener, then assigns its namespace (Keyv's constructor). */
  private attaching = false;
  /** A Keyv has attached already, with the namespace then current. */
  private attached = false;

  /**
   * @param client a `MemcachedClient` (left open by `disconnect()`: it is yours to close), or the options to
   * make one (closed by `disconnect()`).
   */
  constructor(client: MemcachedClient | MemcachedClientOptions) {
    super();
    // Duck-typed, not `instanceof`: a client made by the other (ESM or CJS) copy of core is a client too.
    this.ownsClient = !isClient(client);
    this.client = isClient(client) ? client : new MemcachedClient(client);
    this.opts = { dialect: 'lovely-memcached', url: this.client.servers.join(',') };
    this.on('newListener', (event) => {
      if (event === 'error') this.attaching = true;
    });
  }

  /** Set by Keyv (`'keyv'` unless configured); one adapter per Keyv, since Keyv assigns it. */
  get namespace(): string | undefined {
    return this.keyvNamespace;
  }

  /**
   * Keyv assigns its namespace to the store: a second Keyv with another namespace on this store takes it over
   * for both (`@keyv/memcache`'s README shows the pattern), and `clear()` of either clears the last one's. Said
   * once, as a process warning: the fix is a store per Keyv.
   */
  set namespace(namespace: string | undefined) {
    if (this.attaching) {
      this.attaching = false;
      if (this.attached && namespace !== this.keyvNamespace) warnSharedStore(this.keyvNamespace, namespace);
      this.attached = true;
    }
    this.keyvNamespace = namespace;
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.attempt('get', key, undefined, () =>
      this.client.query<StoredData<Value>>(key, { ns: this.ns() }),
    );
  }

  /** One multi-get per server for all the keys (the client batches reads made together). */
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const ns = this.ns();
    return this.attempt(
      'getMany',
      keys.join(' '),
      keys.map(() => undefined),
      () => Promise.all(keys.map((key) => this.client.query<StoredData<Value>>(key, { ns }))),
    );
  }

  /** Present and not past the `expires` Keyv wrote into it (memcached keeps entries a little longer). */
  async has(key: string): Promise<boolean> {
    return this.attempt('has', key, false, async () => {
      const stored = await this.client.query(key, { ns: this.ns() });
      return isAlive(stored, Date.now());
    });
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    const ns = this.ns();
    return this.attempt(
      'hasMany',
      keys.join(' '),
      keys.map(() => false),
      async () => {
        const stored = await Promise.all(keys.map((key) => this.client.query(key, { ns })));
        const now = Date.now();
        return stored.map((value) => isAlive(value, now));
      },
    );
  }

  /** `ttl` in milliseconds (none: no expiry); false when no server took the value. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const [stored] = await this.storeMany([{ key, value, ttl }]);
    return stored === true;
  }

  /**
   * Every entry written in one pipelined batch. Typed `Promise<void>` as Keyv's adapter type has it (so the
   * store fits where a `KeyvStoreAdapter` is asked for), it resolves to one boolean per entry, which
   * `keyv.setMany()` hands back as its result: false for an entry not stored (a failed one is also reported).
   */
  setMany(entries: KeyvSetEntry[]): Promise<void>;
  // biome-ignore lint/suspicious/noConfusingVoidType: it must match the `Promise<void>` overload, Keyv's type.
  async setMany(entries: KeyvSetEntry[]): Promise<boolean[] | void> {
    return this.storeMany(entries);
  }

  private async storeMany(entries: readonly KeyvSetEntry[]): Promise<boolean[]> {
    const ns = this.ns();
    const results = await this.attempt('setMany', entries.map((e) => e.key).join(' '), undefined, () =>
      Promise.all(entries.map((entry) => this.store(entry, ns))),
    );
    if (results === undefined) return entries.map(() => false);
    return results.map((result) => {
      if (typeof result === 'boolean') return result;
      this.report(result.error, 'set', result.key);
      return false;
    });
  }

  /** True when the key was there: it is read first (memcached's delete alone does not say through the client). */
  async delete(key: string): Promise<boolean> {
    return this.attempt('delete', key, false, async () => {
      const [existed] = await this.remove([key]);
      return existed === true;
    });
  }

  /** True when every key was there. */
  async deleteMany(keys: string[]): Promise<boolean> {
    return this.attempt('deleteMany', keys.join(' '), false, async () => {
      const existed = await this.remove(keys);
      return existed.length > 0 && existed.every(Boolean);
    });
  }

  /**
   * Clears this Keyv's namespace only (`invalidateNamespace`): one round trip whatever the number of entries,
   * seen by every process sharing the servers; other namespaces and other applications' keys stay.
   */
  async clear(): Promise<void> {
    await this.attempt('clear', undefined, undefined, () => this.client.invalidateNamespace(this.ns()));
  }

  /** Closes the client if this adapter made it; a client passed in stays open for its owner to close. */
  async disconnect(): Promise<void> {
    if (!this.ownsClient) return;
    await this.attempt('disconnect', undefined, undefined, () => this.client.close());
  }

  /** A key that could not be stored (too large, not serializable) fails alone, not its whole batch. */
  private async store(entry: KeyvSetEntry, ns: string): Promise<boolean | Failure> {
    try {
      const lifetime = lifetimeOf(entry.ttl);
      if (lifetime === 'expired') {
        await this.client.invalidate(entry.key, { ns });
        return true;
      }
      return (await this.client.set(entry.key, storable(entry.value), { ns, lifetime })) !== null;
    } catch (error) {
      return { error, key: entry.key };
    }
  }

  /** Which keys existed, then removes them all: the reads leave in one batch, then the deletes in one. */
  private async remove(keys: string[]): Promise<boolean[]> {
    const ns = this.ns();
    const found = await Promise.all(keys.map((key) => this.client.query(key, { ns })));
    await Promise.all(keys.map((key) => this.client.invalidate(key, { ns })));
    return found.map((value) => value !== undefined);
  }

  /** The client namespace of Keyv's current namespace (Keyv may assign another at any time). */
  private ns(): string {
    if (this.namespaceOfNs !== this.namespace || this.currentNs === undefined) {
      this.currentNs = clientNamespace(this.client.defaultNS, this.namespace);
      this.namespaceOfNs = this.namespace;
    }
    return this.currentNs;
  }

  private async attempt<R, F>(
    operation: string,
    key: string | undefined,
    fallback: F,
    run: () => Promise<R>,
  ): Promise<R | F> {
    try {
      return await run();
    } catch (error) {
      this.report(error, operation, key);
      return fallback;
    }
  }

  /**
   * An `error` event, as Keyv expects of its stores (it forwards them to its own listeners). Never thrown:
   * with no listener, or a listener that throws, it becomes a process warning (once per kind).
   */
  private report(error: unknown, operation: string, key?: string): void {
    const reported = isCacheError(error)
      ? error
      : new CacheError(
          'ERR_UNEXPECTED',
          `Keyv ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error, context: { operation, key } },
        );
    if (this.listenerCount('error') === 0) {
      warnOnce(`@lovely-memcached/keyv: ${operation} failed (no 'error' listener on the store)`, reported);
      return;
    }
    try {
      this.emit('error', reported);
    } catch (listenerError) {
      warnOnce("@lovely-memcached/keyv: an 'error' listener threw", listenerError);
    }
  }
}

let sharedStoreWarned = false;

/** Once per process: a setup mistake, repeated by every Keyv made the same way. */
function warnSharedStore(before: string | undefined, after: string | undefined): void {
  if (sharedStoreWarned) return;
  sharedStoreWarned = true;
  const shown = (namespace: string | undefined) =>
    namespace === undefined ? 'none' : JSON.stringify(namespace);
  process.emitWarning(
    `[lovely-memcached] @lovely-memcached/keyv: one KeyvLovelyMemcached store was given to two Keyv instances, with namespaces ${shown(before)} and then ${shown(after)}: Keyv sets the namespace on the store, so both now read, write and clear() namespace ${shown(after)}. Give each Keyv its own store (stores can share one MemcachedClient): new Keyv({ store: new KeyvLovelyMemcached(client), namespace })`,
    { type: 'LovelyMemcachedWarning', code: 'LOVELY_MEMCACHED_KEYV_SHARED_STORE' },
  );
}

function isClient(value: unknown): value is MemcachedClient {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<MemcachedClient>).query === 'function' &&
    typeof (value as Partial<MemcachedClient>).getOrSet === 'function'
  );
}
