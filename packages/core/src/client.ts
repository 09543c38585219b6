import { randomUUID } from 'node:crypto';
import { Dependencies, type DependencyRecords, dependencyRecords, namespaceTokenKey } from './dependencies';
import { describeValue } from './describe-value';
import { entrySize, MAX_DEPENDENCIES } from './entry-format';
import { EntryWriter } from './entry-writer';
import { CacheError, KeyTrackingDisabledError } from './errors';
import type { Factory } from './factory-runner';
import { isFresh } from './freshness';
import { GetOrSetCall, type ReadThroughConnection } from './get-or-set-call';
import { type GetOrSetManyOptions, type ManyFactory, readThroughMany } from './get-or-set-many';
import {
  type GetOrSetOptions,
  jittered,
  jitterOption,
  resolveReadThroughSettings,
  seconds,
} from './get-or-set-options';
import { InvalidationLog } from './invalidation-log';
import { assertNamespace, encodeKey, hashedKey, type Key, type Namespace, rawKey } from './key';
import { KeyTracker } from './key-tracking';
import { addLeases } from './lease';
import { toExptime } from './lifetime';
import { readLiveEntry } from './live-entry';
import { type L1Stats, NearCache } from './near-cache/near-cache';
import { nearGetOrSet, nearQuery } from './near-cache/near-reads';
import { checkBoolean } from './option-checks';
import {
  checkCallOptions,
  DEPENDENTS_OPTION_NAMES,
  type DependentsOptions,
  INVALIDATE_NAMESPACE_OPTION_NAMES,
  INVALIDATE_OPTION_NAMES,
  type InvalidateNamespaceOptions,
  type InvalidateOptions,
  type MemcachedClientOptions,
  QUERY_OPTION_NAMES,
  type QueryOptions,
  type RawQueryOptions,
  type ResolvedOptions,
  resolveOptions,
  SET_OPTION_NAMES,
  type SetOptions,
  serverList,
} from './options';
import { ReadBatcher } from './read-batcher';
import { ReadThrough } from './read-through';
import { type ResolvedKey, stampsNamespace } from './resolved-key';
import { expireKey } from './soft-invalidation';
import { type OperationContext, operationChannels, type TracedOperation } from './tracing';
import { parseServerAddress } from './transport';
import { checkTransport } from './transport-check';

/** A value `set` can store: anything but `undefined` (caught at compile time where the type says so). */
export type Storable<V> = V extends undefined ? never : V;

/** The parts that live as long as one server list; `servers = [...]` replaces them together. */
interface Connection extends ReadThroughConnection {
  tracker: KeyTracker | undefined;
  invalidations: InvalidationLog;
}

/**
 * A cache client over one or many memcached servers: hashed or raw keys, namespaces, dependency invalidation,
 * optional key tracking, statistics. A server that is down costs misses, never exceptions.
 */
export class MemcachedClient {
  /** Unique per client instance; key-tracking records are kept per uid. */
  readonly uid: string = randomUUID();
  readonly defaultLifetime: number;
  readonly defaultNS: Namespace;
  readonly trackKeys: boolean;

  private readonly options: ResolvedOptions;
  private connection: Connection;
  /** Set by the first `close()`: later calls are refused, and every `close()` waits for this one. */
  private closing: Promise<void> | undefined;
  private readonly namespaceTokenKeys = new Map<string, string>();
  private readonly knownRecords = new Map<string, DependencyRecords>();
  /** The near cache (`l1` option): undefined without it, and then no path changes. */
  private readonly l1: NearCache | undefined;

  constructor(options: MemcachedClientOptions) {
    if (typeof options?.transport !== 'function') {
      throw new CacheError(
        'ERR_NO_TRANSPORT',
        'no `transport` given: pass `transport: metaTransport()` (from @lovely-memcached/transport-meta) or `transport: memjsTransport()` (from @lovely-memcached/transport-memjs) for memcached, or `transport: memoryTransport()` (from @lovely-memcached/transport-memory) for tests',
      );
    }
    this.options = resolveOptions(options);
    this.defaultLifetime = this.options.defaultLifetime;
    this.defaultNS = this.options.defaultNS;
    this.trackKeys = this.options.trackKeys;
    this.connection = this.connect(this.options.servers);
    this.l1 = this.options.l1 === undefined ? undefined : new NearCache(this.options.l1, this.options.now);
  }

  /** The servers in use; assigning a new list reconnects (the old connections are closed). */
  get servers(): string[] {
    return [...this.options.servers];
  }

  set servers(servers: string | readonly string[]) {
    this.assertOpen();
    const list = serverList(servers);
    const next = this.connect(list);
    const previous = this.connection.transport;
    this.options.servers = list;
    this.connection = next;
    this.l1?.dropAll(false);
    // Closing settles the old transport's pending calls; nothing is left to wait for.
    previous.close().catch(() => {});
  }

  private connect(servers: readonly string[]): Connection {
    for (const server of servers) parseServerAddress(server);
    const transport = checkTransport(this.options.transport(servers));
    const reads = new ReadBatcher(transport);
    const leases = transport.leases ?? addLeases(transport);
    const dependencies = new Dependencies(transport, reads);
    const tracker = this.options.trackKeys
      ? new KeyTracker(transport, reads, this.uid, this.options.now)
      : undefined;
    const invalidations = new InvalidationLog();
    return {
      invalidations,
      transport,
      reads,
      dependencies,
      tracker,
      writer: new EntryWriter(transport, dependencies, tracker, this.options.compression, invalidations),
      leases,
      leasedReads: new Map(),
      readThrough: new ReadThrough(leases, this.options.now),
    };
  }

  /** Stores `value`; resolves to the memcached key used, or `null` when no server took it. */
  async set<V>(key: Key, value: Storable<V>, options: SetOptions = {}): Promise<string | null> {
    this.assertOpen();
    checkCallOptions('set', options, SET_OPTION_NAMES);
    const resolved = this.resolveKey(key, options.ns, options.raw);
    const jitter = options.jitter === undefined ? this.options.jitter : jitterOption(options.jitter);
    const lifetime = options.lifetime ?? this.defaultLifetime;
    const exptime = toExptime(
      jitter === 0 ? lifetime : jittered(seconds('lifetime', lifetime), jitter),
      this.options.now,
    );
    const records = this.dependencyRecords(options.dependencies, resolved.ns);
    const namespaced = stampsNamespace(resolved, options.raw === true, records);
    const { writer } = this.connection;
    const body = writer.encode(value, options.raw === true, records);
    // The stored size is known before any I/O: a value too large leaves no token, index or record behind.
    writer.checkSize(
      entrySize(body.body.length, records.length + Number(namespaced), false),
      resolved.memcachedKey,
    );
    const channel = operationChannels.set;
    if (this.l1 !== undefined) {
      // This process's copy goes before the write resolves; other processes drop theirs on the bus.
      return this.l1.around([resolved.memcachedKey], [], () =>
        channel.hasSubscribers
          ? channel.tracePromise(
              () => writer.set(resolved, body, records, namespaced, exptime),
              this.traceContext('set', key, resolved.ns, resolved.memcachedKey),
            )
          : writer.set(resolved, body, records, namespaced, exptime),
      );
    }
    if (!channel.hasSubscribers) return writer.set(resolved, body, records, namespaced, exptime);
    return channel.tracePromise(
      () => writer.set(resolved, body, records, namespaced, exptime),
      this.traceContext('set', key, resolved.ns, resolved.memcachedKey),
    );
  }

  /**
   * The value for `key`, or the factory's (stored for next time), with one factory call per key across every
   * client and process sharing the servers; stale values within `grace` are served while one caller refreshes.
   */
  getOrSet<T>(key: Key, factory: Factory<T>, options: GetOrSetOptions = {}): Promise<T> {
    // Not an async function (as `query`): a hit costs the read and its own microtask turns, no more.
    try {
      return this.readThrough(key, factory, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `getOrSet`'s work; throws (synchronously) on bad input. */
  private readThrough<T>(
    key: Key,
    factory: Factory<T>,
    options: GetOrSetOptions,
    decided?: (computes: boolean) => void,
  ): Promise<T> {
    this.assertOpen();
    if (typeof factory !== 'function') {
      throw new CacheError(
        'ERR_INVALID_OPTION',
        `getOrSet needs a factory function, got ${describeValue(factory)}`,
        {
          context: { key },
        },
      );
    }
    const settings = resolveReadThroughSettings(options, this.defaultLifetime, this.options.jitter);
    const resolved = this.resolveKey(key, options.ns, options.raw);
    // Checked now, hit or miss: a lifetime memcached cannot represent is bad input either way.
    const exptime = toExptime(settings.storeSeconds, this.options.now);
    const records = this.dependencyRecords(options.dependencies, resolved.ns);
    const raw = options.raw === true;
    const namespaced = stampsNamespace(resolved, raw, records);
    const connection = this.connection;
    const channel = operationChannels.getOrSet;
    const context = channel.hasSubscribers
      ? this.traceContext('getOrSet', key, resolved.ns, resolved.memcachedKey)
      : undefined;
    const call = new GetOrSetCall(
      connection,
      resolved,
      raw,
      settings,
      factory,
      exptime,
      records,
      namespaced,
      context,
      (dependencies) => this.dependencyRecords(dependencies, resolved.ns),
      this.options.now,
      decided,
    );
    if (this.l1 !== undefined) {
      const { reads, dependencies } = connection;
      const { memcachedKey, namespaceTokenKey } = resolved;
      const read = { l1: this.l1, reads, dependencies, memcachedKey, namespaceTokenKey, raw, context };
      const near = () => nearGetOrSet(read, () => call.run(), this.options.now);
      return context === undefined ? near() : withoutResult(channel, context, near);
    }
    if (context === undefined) return call.run();
    return withoutResult(channel, context, () => call.run());
  }

  /**
   * The values of `keys`, in their order: the cached ones from one batched read per server, the missing ones
   * from one call of `factory` with exactly those keys (an array aligned with them; `undefined` = not found,
   * not cached). Each missing key is leased on its own: across clients and processes it is computed once.
   */
  getOrSetMany<K extends Key, T>(
    keys: readonly K[],
    factory: ManyFactory<K, T>,
    options: GetOrSetManyOptions<K> = {},
  ): Promise<Array<T | undefined>> {
    try {
      this.assertOpen();
      return readThroughMany(keys, factory, options, {
        memcachedKey: (key) => this.resolveKey(key, options.ns, options.raw).memcachedKey,
        readThrough: (key, keyFactory, keyOptions, decided) =>
          this.readThrough(key, keyFactory, keyOptions, decided),
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The stored value, or `options.default` on a miss, an invalidated dependency, or an unreachable server. */
  query<D>(key: Key, options: RawQueryOptions<D> & { default: D }): Promise<string | Uint8Array | D>;
  /** A raw value as stored: a string, or the bytes a Uint8Array was stored as. */
  query(key: Key, options: RawQueryOptions): Promise<string | Uint8Array | undefined>;
  query<T>(key: Key, options: QueryOptions<T> & { default: T }): Promise<T>;
  query<T = unknown>(key: Key, options?: QueryOptions<T>): Promise<T | undefined>;
  // Not an async function, nor is `lookup`: each async layer that returns another's promise costs the call
  // two more microtask turns, measurable on the hottest path at concurrency 1 (see bench/results).
  query<T = unknown>(key: Key, options: QueryOptions<T> = NO_QUERY_OPTIONS): Promise<T | undefined> {
    let resolved: ResolvedKey;
    try {
      this.assertOpen();
      if (options !== NO_QUERY_OPTIONS) checkCallOptions('query', options, QUERY_OPTION_NAMES);
      resolved = this.resolveKey(key, options.ns, options.raw);
    } catch (error) {
      return Promise.reject(error);
    }
    const channel = operationChannels.query;
    if (!channel.hasSubscribers) return this.lookup(resolved, options);
    const context = this.traceContext('query', key, resolved.ns, resolved.memcachedKey);
    return withoutResult(channel, context, () => this.lookup(resolved, options, context));
  }

  private lookup<T>(
    { memcachedKey, namespaceTokenKey }: ResolvedKey,
    options: QueryOptions<T>,
    context?: OperationContext,
  ): Promise<T | undefined> {
    const { reads, dependencies } = this.connection;
    if (this.l1 !== undefined && options.l1 !== false) {
      const raw = options.raw === true;
      const read = { l1: this.l1, reads, dependencies, memcachedKey, namespaceTokenKey, raw, context };
      return nearQuery(read, options.default, this.options.now);
    }
    return readLiveEntry(reads, dependencies, memcachedKey, options.raw === true, namespaceTokenKey).then(
      (entry) => {
        // A read-through entry past its lifetime is only for `getOrSet` to serve within grace: a miss here.
        // The clock is read only for entries that can go stale (`getOrSet`'s).
        const hit =
          entry !== undefined &&
          (entry.freshness === undefined || isFresh(entry.freshness, this.options.now()));
        if (context !== undefined) context.hit = hit;
        return hit ? (entry.value as T) : options.default;
      },
    );
  }

  /** L1's counters (hits, misses, bytes, evictions, bus messages), or undefined without the `l1` option. */
  l1Stats(): L1Stats | undefined {
    return this.l1?.stats();
  }

  /** Removes the entry for `key` (if given) and every entry set with any of `options.dependencies`. */
  async invalidate(key?: Key, options: InvalidateOptions = {}): Promise<void> {
    this.assertOpen();
    checkCallOptions('invalidate', options, INVALIDATE_OPTION_NAMES);
    const ns = this.resolveNamespace(options.ns);
    const target = key === undefined ? undefined : this.resolveKey(key, options.ns, options.raw);
    const records = this.dependencyRecords(options.dependencies, ns);
    const { transport, dependencies, invalidations } = this.connection;
    invalidations.record(
      target?.memcachedKey,
      records.map((record) => record.tokenKey),
    );
    const soft = checkBoolean('soft', options.soft ?? false);
    const now = soft ? this.options.now() : 0;
    await this.nearAround(
      target === undefined ? [] : [target.memcachedKey],
      records.map((record) => record.tokenKey),
      () =>
        this.trace('invalidate', key, ns, target?.memcachedKey, () =>
          Promise.all([
            target &&
              (soft
                ? expireKey(transport, target.memcachedKey, now)
                : transport.delete(target.memcachedKey, { urgent: true })),
            records.length > 0 &&
              (soft
                ? dependencies.softInvalidate(
                    records.map((record) => record.tokenKey),
                    now,
                  )
                : dependencies.invalidate(records)),
          ]),
        ),
    );
  }

  /**
   * Every entry set in namespace `ns` (default: `defaultNS`) before the call reads as a miss for every client,
   * in one round trip whatever the number of entries; other namespaces are untouched. Raw values set without
   * dependencies are plain bytes and are not covered.
   */
  async invalidateNamespace(ns?: Namespace, options: InvalidateNamespaceOptions = {}): Promise<void> {
    this.assertOpen();
    checkCallOptions('invalidateNamespace', options, INVALIDATE_NAMESPACE_OPTION_NAMES);
    const soft = checkBoolean('soft', options.soft ?? false);
    const namespace = this.resolveNamespace(ns);
    if (namespace === null || typeof namespace !== 'string') {
      throw new CacheError(
        'ERR_INVALID_OPTION',
        `invalidateNamespace needs a namespace (a string), got ${describeValue(namespace)}: entries without one are cleared by invalidating them, or all at once with invalidateAll()`,
        { context: { ns: namespace } },
      );
    }
    const tokenKey = this.namespaceTokenKeyOf(namespace) as string;
    const { dependencies, invalidations } = this.connection;
    invalidations.record(undefined, [tokenKey]);
    await this.nearAround([], [tokenKey], () =>
      this.trace('invalidateNamespace', undefined, namespace, undefined, () =>
        soft
          ? dependencies.softInvalidate([tokenKey], this.options.now())
          : dependencies.invalidateNamespace(tokenKey),
      ),
    );
  }

  /** Flushes every server: all namespaces go. */
  async invalidateAll(): Promise<void> {
    this.assertOpen();
    const { transport, dependencies, invalidations } = this.connection;
    invalidations.recordAll();
    this.l1?.dropAll(false);
    await this.trace('invalidateAll', undefined, undefined, undefined, () => transport.flush());
    this.l1?.dropAll(true);
    // Our own writes right after the flush must not be stamped with the tokens it took away.
    dependencies.forgetAllTokens();
  }

  /** The original keys live in namespace `ns` (default: `defaultNS`), as stored by every tracking client. */
  async keys(ns?: Namespace): Promise<Key[]> {
    this.assertOpen();
    const { tracker } = this.connection;
    if (tracker === undefined) throw new KeyTrackingDisabledError();
    const namespace = this.resolveNamespace(ns);
    return this.trace('keys', undefined, namespace, undefined, () => tracker.keys(namespace));
  }

  /** The memcached keys currently tied to `dependency` in the namespace. */
  async dependents(dependency: unknown, options: DependentsOptions = {}): Promise<string[]> {
    this.assertOpen();
    checkCallOptions('dependents', options, DEPENDENTS_OPTION_NAMES);
    const ns = this.resolveNamespace(options.ns);
    const [records] = this.dependencyRecords([dependency], ns);
    const { dependencies } = this.connection;
    return this.trace('dependents', dependency, ns, undefined, () =>
      dependencies.dependents(records as DependencyRecords),
    );
  }

  /** `[label, stats]` per reachable server, labelled `host:port (weight)`. */
  async getStatistics(): Promise<Array<[string, Record<string, string>]>> {
    this.assertOpen();
    const { transport } = this.connection;
    const stats = await this.trace('getStatistics', undefined, undefined, undefined, () => transport.stats());
    return stats.map(({ server, weight, stats }) => [`${server} (${weight})`, stats]);
  }

  /** Closes connections; the process can exit afterwards. */
  async close(): Promise<void> {
    // An async function, so a transport whose close throws synchronously still gives a rejection.
    // Calls still waiting (on a factory, a lease, a server) settle with ERR_CLIENT_CLOSED; none starts one.
    this.connection.readThrough.close();
    this.closing ??= (async () => {
      const near = this.l1?.close();
      await this.connection.transport.close();
      await near;
    })();
    await this.closing;
  }

  /** Runs an invalidation with this process's L1 copies dropped before it starts and after it ends. */
  private nearAround<T>(
    keys: readonly string[],
    tokenKeys: readonly string[],
    run: () => Promise<T>,
  ): Promise<T> {
    return this.l1 === undefined ? run() : this.l1.around(keys, tokenKeys, run);
  }

  /** Runs an operation on its tracing channel when someone listens; the context is built only then. */
  private trace<T>(
    operation: TracedOperation,
    key: unknown,
    ns: Namespace | undefined,
    memcachedKey: string | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    const channel = operationChannels[operation];
    if (!channel.hasSubscribers) return run();
    return channel.tracePromise(run, this.traceContext(operation, key, ns, memcachedKey));
  }

  private traceContext(
    operation: TracedOperation,
    key: unknown,
    ns: Namespace | undefined,
    memcachedKey: string | undefined,
  ): OperationContext {
    return { operation, key, ns, memcachedKey, servers: this.options.servers };
  }

  /** Use after `close()` is a bug in the caller: said loudly, as database drivers do, not answered with misses. */
  private assertOpen(): void {
    if (this.closing !== undefined) {
      throw new CacheError(
        'ERR_CLIENT_CLOSED',
        'this MemcachedClient was closed: make a new one, or close it only when the application stops',
      );
    }
  }

  private resolveNamespace(ns: Namespace | undefined): Namespace {
    return ns === undefined ? this.defaultNS : ns;
  }

  private resolveKey(key: Key, ns: Namespace | undefined, raw: boolean | undefined): ResolvedKey {
    const namespace = this.resolveNamespace(ns);
    const namespaceTokenKey = namespace === null ? undefined : this.namespaceTokenKeyOf(namespace);
    if (raw === true) {
      const memcachedKey = rawKey(key, namespace);
      return { memcachedKey, encodedKey: JSON.stringify(key), ns: namespace, namespaceTokenKey };
    }
    assertNamespace(namespace);
    const encodedKey = encodeKey(key);
    return { memcachedKey: hashedKey(encodedKey, namespace), encodedKey, ns: namespace, namespaceTokenKey };
  }

  /** Memoised: a client uses few namespaces, and each would cost an MD5 per call. */
  private namespaceTokenKeyOf(ns: string): string | undefined {
    if (typeof ns !== 'string') return undefined; // reported by the key checks that follow
    let key = this.namespaceTokenKeys.get(ns);
    if (key === undefined) {
      if (this.namespaceTokenKeys.size >= 1000) this.namespaceTokenKeys.clear();
      key = namespaceTokenKey(ns);
      this.namespaceTokenKeys.set(ns, key);
    }
    return key;
  }

  private dependencyRecords(
    dependencies: readonly unknown[] | undefined,
    ns: Namespace,
  ): readonly DependencyRecords[] {
    if (dependencies === undefined) return NO_RECORDS;
    if (!Array.isArray(dependencies)) {
      throw new CacheError('ERR_INVALID_OPTION', '`dependencies` must be an array of keys', {
        context: { dependencies },
      });
    }
    if (dependencies.length > MAX_DEPENDENCIES) {
      throw new CacheError(
        'ERR_INVALID_OPTION',
        `${dependencies.length} dependencies given: an entry carries at most ${MAX_DEPENDENCIES}`,
        { context: { dependencies: dependencies.length } },
      );
    }
    assertNamespace(ns);
    return [...new Set(dependencies.map(encodeKey))].map((encoded) => this.recordsOf(encoded, ns));
  }

  /** Memoised: a dependency's two record keys cost two MD5 hashes, and hot dependencies recur on every write. */
  private recordsOf(encodedDependency: string, ns: Namespace): DependencyRecords {
    const id = ns === null ? encodedDependency : `${ns}\u0000${encodedDependency}`;
    let records = this.knownRecords.get(id);
    if (records === undefined) {
      if (this.knownRecords.size >= 10_000) this.knownRecords.clear();
      records = dependencyRecords(encodedDependency, ns);
      this.knownRecords.set(id, records);
    }
    return records;
  }
}

/**
 * Traces a read without handing its value to subscribers: `tracePromise` puts the function's result on the
 * context, and a context never carries a value.
 */
async function withoutResult<T>(
  channel: (typeof operationChannels)[TracedOperation],
  context: OperationContext,
  read: () => Promise<T>,
): Promise<T> {
  let value: T | undefined;
  await channel.tracePromise(async () => {
    value = await read();
  }, context);
  return value as T;
}

const NO_RECORDS: readonly DependencyRecords[] = Object.freeze([]);
/** A query without options allocates none (the hot path at concurrency 1). */
const NO_QUERY_OPTIONS: QueryOptions<never> = Object.freeze({});
