import { randomUUID } from 'node:crypto';
import { Dependencies, type DependencyRecords, dependencyRecords, namespaceTokenKey } from './dependencies';
import {
  compressBody,
  type EncodedBody,
  encodeBody,
  encodeEntry,
  entrySize,
  Kind,
  MAX_DEPENDENCIES,
  PLAIN_TEXT_FLAGS,
  type TokenStamp,
} from './entry-format';
import { CacheError, InvalidValueError, KeyTrackingDisabledError } from './errors';
import { type Freshness, isFresh } from './freshness';
import { type GetOrSetOptions, resolveReadThroughSettings } from './get-or-set-options';
import { assertNamespace, encodeKey, hashedKey, type Key, type Namespace, rawKey } from './key';
import { KeyTracker } from './key-tracking';
import {
  addLeases,
  isPlaceholder,
  type LeasedRead,
  type LeaseOutcome,
  type Leases,
  takePlaceholder,
} from './lease';
import { toExptime } from './lifetime';
import { readLiveEntry } from './live-entry';
import { isThenable } from './option-checks';
import {
  type DependentsOptions,
  type InvalidateOptions,
  type MemcachedClientOptions,
  type QueryOptions,
  type ResolvedOptions,
  resolveOptions,
  type SetOptions,
  serverList,
} from './options';
import { ReadBatcher } from './read-batcher';
import {
  type Factory,
  type ReadOutcome,
  ReadThrough,
  type ReadThroughCall,
  type ReadThroughRequest,
  type ReadThroughSettings,
} from './read-through';
import { type OperationContext, operationChannels, type TracedOperation } from './tracing';
import {
  MEMCACHED_ITEM_OVERHEAD,
  parseServerAddress,
  TRANSPORT_SPECIFICATION_VERSION,
  type Transport,
  type TransportItem,
} from './transport';

/** A value `set` can store: anything but `undefined` (caught at compile time where the type says so). */
export type Storable<V> = V extends undefined ? never : V;

const TRANSPORT_METHODS = [
  'get',
  'set',
  'add',
  'append',
  'delete',
  'incr',
  'touch',
  'flush',
  'stats',
  'close',
];

/** What a key resolved to: the memcached key, and the canonical text tracking records keep. */
interface ResolvedKey {
  memcachedKey: string;
  encodedKey: string;
  ns: Namespace;
  /** The namespace's token key (see `invalidateNamespace`), for entries in a namespace. */
  namespaceTokenKey: string | undefined;
}

/** The parts that live as long as one server list; `servers = [...]` replaces them together. */
interface Connection {
  transport: Transport;
  reads: ReadBatcher;
  dependencies: Dependencies;
  tracker: KeyTracker | undefined;
  readThrough: ReadThrough;
  leases: Leases;
  /** `getOrSet` reads that take a lease, in flight, by memcached key (see `readForGetOrSet`). */
  leasedReads: Map<string, Promise<LeasedRead>>;
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

  constructor(options: MemcachedClientOptions) {
    if (typeof options?.transport !== 'function') {
      throw new CacheError(
        'ERR_NO_TRANSPORT',
        'no `transport` given: pass `transport: memjsTransport()` (from @lovely-memcached/transport-memjs) for memcached, or `transport: memoryTransport()` (from @lovely-memcached/transport-memory) for tests',
      );
    }
    this.options = resolveOptions(options);
    this.defaultLifetime = this.options.defaultLifetime;
    this.defaultNS = this.options.defaultNS;
    this.trackKeys = this.options.trackKeys;
    this.connection = this.connect(this.options.servers);
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
    // Closing settles the old transport's pending calls; nothing is left to wait for.
    previous.close().catch(() => {});
  }

  private connect(servers: readonly string[]): Connection {
    for (const server of servers) parseServerAddress(server);
    const transport = checkTransport(this.options.transport(servers));
    const reads = new ReadBatcher(transport);
    const leases = transport.leases ?? addLeases(transport);
    return {
      transport,
      reads,
      dependencies: new Dependencies(transport, reads),
      tracker: this.options.trackKeys
        ? new KeyTracker(transport, reads, this.uid, this.options.now)
        : undefined,
      leases,
      leasedReads: new Map(),
      readThrough: new ReadThrough(leases, this.options.now),
    };
  }

  /** Stores `value`; resolves to the memcached key used, or `null` when no server took it. */
  async set<V>(key: Key, value: Storable<V>, options: SetOptions = {}): Promise<string | null> {
    this.assertOpen();
    const resolved = this.resolveKey(key, options.ns, options.raw);
    const exptime = toExptime(options.lifetime ?? this.defaultLifetime, this.options.now);
    const records = this.dependencyRecords(options.dependencies, resolved.ns);
    const namespaced = stampsNamespace(resolved, options.raw === true, records);
    const body = this.encode(value, options.raw === true, records);
    // The stored size is known before any I/O: a value too large leaves no token, index or record behind.
    this.checkSize(
      entrySize(body.body.length, records.length + Number(namespaced), false),
      resolved.memcachedKey,
    );
    const channel = operationChannels.set;
    if (!channel.hasSubscribers) return this.write(resolved, body, records, namespaced, exptime);
    return channel.tracePromise(
      () => this.write(resolved, body, records, namespaced, exptime),
      this.traceContext('set', key, resolved.ns, resolved.memcachedKey),
    );
  }

  private async write(
    resolved: ResolvedKey,
    body: EncodedBody,
    records: readonly DependencyRecords[],
    namespaced: boolean,
    exptime: number,
  ): Promise<string | null> {
    const tokenKeys = stampKeys(resolved, records, namespaced);
    if (tokenKeys.length === 0) return this.store(resolved, body, [], exptime, undefined, records);
    const { dependencies } = this.connection;
    const reused = dependencies.knownStamps(tokenKeys, performance.now());
    if (reused !== undefined) return this.store(resolved, body, reused, exptime, undefined, records);
    const current = dependencies.readStamps(tokenKeys);
    // Tokens this client knew once but no longer trusts (older than the reuse window): the write goes out
    // stamped with them while the tokens are read, in the same round trip, instead of after the read. Safe:
    // stamped with a token that has changed, the entry is dead on arrival (never served), and it is then
    // written again with the current ones. Profile of a set with 3 dependencies of which one is rarely
    // written: two round trips (read the token, then write), now one.
    const guess = dependencies.knownStamps(tokenKeys);
    if (guess === undefined) return this.store(resolved, body, await current, exptime, undefined, records);
    const [stored, stamps] = await Promise.all([
      this.store(resolved, body, guess, exptime, undefined, records),
      current,
    ]);
    if (stamps.every(([, token], i) => guess[i]?.[1] === token)) return stored;
    return this.store(resolved, body, stamps, exptime, undefined, records);
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
  private readThrough<T>(key: Key, factory: Factory<T>, options: GetOrSetOptions): Promise<T> {
    this.assertOpen();
    if (typeof factory !== 'function') {
      throw new CacheError('ERR_INVALID_OPTION', `getOrSet needs a factory function, got ${typeof factory}`, {
        context: { key },
      });
    }
    const settings = resolveReadThroughSettings(options, this.defaultLifetime);
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
      this.flightRequest,
    );
    if (context === undefined) return call.run();
    return withoutResult(channel, context, () => call.run());
  }

  /** The request of a `getOrSet` flight (a miss or a refresh): how it reads again, and how it writes. */
  private readonly flightRequest = <T>(call: GetOrSetCall<T>): ReadThroughRequest<T> => {
    const { connection, resolved, raw, settings, factory, exptime, records, namespaced } = call;
    return {
      memcachedKey: resolved.memcachedKey,
      factory,
      settings,
      store: {
        read: () => readForGetOrSet(connection, resolved, raw, settings, OUTCOME),
        prepare: async () => {
          const stamps = await this.takeStamps(resolved, records, namespaced);
          return (value, freshness) =>
            this.store(resolved, this.encode(value, raw, records), stamps, exptime, freshness, records);
        },
        reachable: () => connection.transport.reachable?.(resolved.memcachedKey) ?? true,
      },
    };
  };

  /**
   * The current token of the namespace (when the entry carries it) and of each dependency, created where
   * missing. Usually known already: a writer reuses tokens for a moment (see dependencies.ts).
   */
  private takeStamps(
    resolved: ResolvedKey,
    records: readonly DependencyRecords[],
    namespaced: boolean,
  ): Promise<TokenStamp[]> {
    const tokenKeys = stampKeys(resolved, records, namespaced);
    return tokenKeys.length === 0 ? NO_STAMPS : this.connection.dependencies.stamps(tokenKeys);
  }

  /**
   * A value as bytes, compressed where the settings say so. A raw value without dependencies stays its plain
   * bytes for other clients to read; compression comes before the size check, so a value over the item limit
   * that compresses under it is stored.
   */
  private encode(value: unknown, raw: boolean, records: readonly DependencyRecords[]): EncodedBody {
    const body = encodeBody(value, raw);
    if (!raw) return compressBody(body, this.options.compression);
    if (records.length === 0) return body;
    // With dependencies a raw string is stored in our format (as text), so it may be compressed too.
    const text = body.kind === PLAIN_TEXT_FLAGS ? { body: body.body, kind: Kind.TEXT } : body;
    return compressBody(text, this.options.compression);
  }

  /** Writes an encoded value with its stamps; the memcached key, or `null` when no server took it. */
  private async store(
    resolved: ResolvedKey,
    body: EncodedBody,
    stamps: readonly TokenStamp[],
    exptime: number,
    freshness: Freshness | undefined,
    records: readonly DependencyRecords[],
  ): Promise<string | null> {
    const { transport, dependencies, tracker } = this.connection;
    const entry = encodeEntry(body, stamps, freshness);
    // Checked again with the headers in: stamps add a few dozen bytes per dependency.
    this.checkSize(entry.bytes.length, resolved.memcachedKey);
    if (stamps.length === 0) dependencies.forget(resolved.memcachedKey);
    else
      dependencies.remember(
        resolved.memcachedKey,
        stamps.map(([tokenKey]) => tokenKey),
      );

    // The index appends travel with the set (one round trip): the index only frees memory and lists
    // dependents; the guarantee rests on the stamps, taken before.
    const [status] = await Promise.all([
      transport.set(resolved.memcachedKey, entry.bytes, { flags: entry.flags, exptime }),
      records.length > 0 && dependencies.index(records, resolved.memcachedKey, stamps),
      tracker?.track(resolved.memcachedKey, resolved.ns, resolved.encodedKey),
    ]);
    if (status === 'too-large') throw this.tooLarge(entry.bytes.length, resolved.memcachedKey);
    return status === 'stored' ? resolved.memcachedKey : null;
  }

  /** The stored value, or `options.default` on a miss, an invalidated dependency, or an unreachable server. */
  query<T>(key: Key, options: QueryOptions<T> & { default: T }): Promise<T>;
  query<T = unknown>(key: Key, options?: QueryOptions<T>): Promise<T | undefined>;
  // Not an async function, nor is `lookup`: each async layer that returns another's promise costs the call
  // two more microtask turns, measurable on the hottest path at concurrency 1 (see bench/results).
  query<T = unknown>(key: Key, options: QueryOptions<T> = NO_QUERY_OPTIONS): Promise<T | undefined> {
    let resolved: ResolvedKey;
    try {
      this.assertOpen();
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

  /** Removes the entry for `key` (if given) and every entry set with any of `options.dependencies`. */
  async invalidate(key?: Key, options: InvalidateOptions = {}): Promise<void> {
    this.assertOpen();
    const ns = this.resolveNamespace(options.ns);
    const target = key === undefined ? undefined : this.resolveKey(key, options.ns, options.raw);
    const records = this.dependencyRecords(options.dependencies, ns);
    const { transport, dependencies } = this.connection;
    await this.trace('invalidate', key, ns, target?.memcachedKey, () =>
      Promise.all([
        target && transport.delete(target.memcachedKey, { urgent: true }),
        records.length > 0 && dependencies.invalidate(records),
      ]),
    );
  }

  /**
   * Every entry set in namespace `ns` (default: `defaultNS`) before the call reads as a miss for every client,
   * in one round trip whatever the number of entries; other namespaces are untouched. Raw values set without
   * dependencies are plain bytes and are not covered.
   */
  async invalidateNamespace(ns?: Namespace): Promise<void> {
    this.assertOpen();
    const namespace = this.resolveNamespace(ns);
    if (namespace === null || typeof namespace !== 'string') {
      throw new CacheError(
        'ERR_INVALID_OPTION',
        `invalidateNamespace needs a namespace (a string), got ${String(namespace)}: entries without one are cleared by invalidating them, or all at once with invalidateAll()`,
        { context: { ns: namespace } },
      );
    }
    const tokenKey = this.namespaceTokenKeyOf(namespace) as string;
    const { dependencies } = this.connection;
    await this.trace('invalidateNamespace', undefined, namespace, undefined, () =>
      dependencies.invalidateNamespace(tokenKey),
    );
  }

  /** Flushes every server: all namespaces go. */
  async invalidateAll(): Promise<void> {
    this.assertOpen();
    const { transport, dependencies } = this.connection;
    await this.trace('invalidateAll', undefined, undefined, undefined, () => transport.flush());
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
    this.closing ??= (async () => this.connection.transport.close())();
    await this.closing;
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

  /** Refuses what memcached would refuse, before anything is written (bookkeeping included). */
  private checkSize(size: number, memcachedKey: string): void {
    const { maxItemSize } = this.connection.transport.capabilities;
    if (size + memcachedKey.length + MEMCACHED_ITEM_OVERHEAD > maxItemSize)
      throw this.tooLarge(size, memcachedKey);
  }

  private tooLarge(size: number, memcachedKey: string): InvalidValueError {
    const limit = this.connection.transport.capabilities.maxItemSize;
    return new InvalidValueError(
      'ERR_VALUE_TOO_LARGE',
      `value of ${size} bytes for key ${memcachedKey} exceeds the server's item size limit (${limit} bytes for key, value and ${MEMCACHED_ITEM_OVERHEAD} bytes of item header): store less, or raise memcached's -I limit`,
      { context: { key: memcachedKey, size, limit } },
    );
  }
}

/**
 * What a transport factory returned, checked once per server list: plain JavaScript can pass
 * `transport: memjsTransport` (not called), which would otherwise fail later with raw TypeErrors.
 */
function checkTransport(transport: unknown): Transport {
  if (typeof transport === 'function') {
    throw new CacheError(
      'ERR_NO_TRANSPORT',
      '`transport` returned a function, not a transport: call the transport factory, e.g. `transport: memjsTransport()` (not `transport: memjsTransport`)',
    );
  }
  if (isThenable(transport)) {
    Promise.resolve(transport).catch(() => {}); // refused: its outcome must not become an unhandled rejection
    throw new CacheError(
      'ERR_NO_TRANSPORT',
      '`transport` returned a promise: a transport factory returns the transport itself, synchronously (it connects lazily), e.g. `transport: memjsTransport()`',
    );
  }
  const candidate = transport as Partial<Record<string, unknown>> | null;
  const version = candidate?.specificationVersion;
  const missing = TRANSPORT_METHODS.filter((method) => typeof candidate?.[method] !== 'function');
  if (version !== TRANSPORT_SPECIFICATION_VERSION || missing.length > 0) {
    const found = [
      version === TRANSPORT_SPECIFICATION_VERSION
        ? ''
        : `specificationVersion ${JSON.stringify(version) ?? 'missing'}`,
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
    ].filter((part) => part !== '');
    throw new CacheError(
      'ERR_NO_TRANSPORT',
      `\`transport\` did not return a transport of specification ${TRANSPORT_SPECIFICATION_VERSION} (${found.join('; ')}): pass \`transport: memjsTransport()\` or \`transport: memoryTransport()\`, or a factory returning a \`Transport\``,
      { context: { specificationVersion: version } },
    );
  }
  return transport as Transport;
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

/**
 * Whether an entry carries its namespace's token: every entry in a namespace does, except a raw value without
 * dependencies, which stays plain bytes any memcached client can read.
 */
function stampsNamespace(resolved: ResolvedKey, raw: boolean, records: readonly unknown[]): boolean {
  return resolved.namespaceTokenKey !== undefined && (!raw || records.length > 0);
}

const NO_STAMPS: Promise<TokenStamp[]> = Promise.resolve([]);
const NO_RECORDS: readonly DependencyRecords[] = Object.freeze([]);
/** A query without options allocates none (the hot path at concurrency 1). */
const NO_QUERY_OPTIONS: QueryOptions<never> = Object.freeze({});

/** Where the tokens an entry is stamped with live: its namespace's (when it carries it), its dependencies'. */
function stampKeys(
  resolved: ResolvedKey,
  records: readonly DependencyRecords[],
  namespaced: boolean,
): string[] {
  const tokenKeys = records.map((record) => record.tokenKey);
  if (namespaced && resolved.namespaceTokenKey !== undefined) tokenKeys.unshift(resolved.namespaceTokenKey);
  return tokenKeys;
}

/**
 * `getOrSet`'s read, which settles who computes an absent entry (hashed keys; a raw key's item is read by other
 * clients, which would take a placeholder for an empty value, so its lease lives beside it):
 * - with server-side leases, the entry's read takes its lease in the same round trip; concurrent callers of
 *   one key in this client share that read, and so the one lease the server hands out;
 * - otherwise an absent entry is leased with `add` of a placeholder on its own key (the item `mg … N`
 *   creates), and a placeholder found means someone else computes.
 * A dead entry (a dependency invalidated) is leased beside it, by `ReadThrough` (`Leases.acquire`).
 */
function readForGetOrSet<R>(
  connection: Connection,
  resolved: ResolvedKey,
  raw: boolean,
  settings: ReadThroughSettings & { storeSeconds: number },
  /** Given the outcome in the turn the entry is read: a hit costs no promise more than a `query`. */
  reader: OutcomeReader<R>,
): Promise<R> {
  const { reads, dependencies, leases, leasedReads, transport } = connection;
  const { memcachedKey, namespaceTokenKey } = resolved;
  if (raw) {
    return readLiveEntry(reads, dependencies, memcachedKey, raw, namespaceTokenKey).then((entry) =>
      reader.answer(entry),
    );
  }
  if (leases.readWithLease === undefined) {
    const seen: { item?: TransportItem } = {};
    return readLiveEntry(reads, dependencies, memcachedKey, false, namespaceTokenKey, undefined, seen).then(
      (entry) => {
        if (entry !== undefined) return reader.answer(entry);
        if (seen.item === undefined) {
          return takePlaceholder(transport, memcachedKey, settings.lockTimeout).then((lease) =>
            reader.answer(entry, lease),
          );
        }
        return reader.answer(entry, isPlaceholder(seen.item) ? HELD : undefined);
      },
    );
  }
  let leased = leasedReads.get(memcachedKey);
  if (leased === undefined) {
    const graceSeconds = settings.storeSeconds - settings.lifetimeMs / 1000;
    leased = leases.readWithLease(memcachedKey, settings.lockTimeout, Math.floor(graceSeconds));
    leasedReads.set(memcachedKey, leased);
    const forget = () => leasedReads.delete(memcachedKey);
    leased.then(forget, forget);
  }
  const read = leased;
  let lease: LeaseOutcome | undefined;
  const fetch = () =>
    read.then(({ item, lease: taken }) => {
      lease = taken;
      return item;
    });
  return readLiveEntry(reads, dependencies, memcachedKey, false, namespaceTokenKey, fetch).then((entry) =>
    reader.answer(entry, lease),
  );
}

/** Told what a `getOrSet` read found, in the turn it was read. */
interface OutcomeReader<R> {
  answer(entry: ReadOutcome['entry'], lease?: LeaseOutcome): R | PromiseLike<R>;
}

/** The read of a flight's polls: the outcome itself. */
const OUTCOME: OutcomeReader<ReadOutcome> = { answer: (entry, lease) => ({ entry, lease }) };

/**
 * One `getOrSet` call, in one object: most calls are hits, which need its read and its answer, not the closures
 * and request object a flight needs (those are made by `request()`, on a miss or a refresh).
 */
class GetOrSetCall<T> implements ReadThroughCall<T>, OutcomeReader<T> {
  constructor(
    readonly connection: Connection,
    readonly resolved: ResolvedKey,
    readonly raw: boolean,
    readonly settings: ReadThroughSettings & { storeSeconds: number },
    readonly factory: Factory<T>,
    readonly exptime: number,
    readonly records: readonly DependencyRecords[],
    readonly namespaced: boolean,
    private readonly context: OperationContext | undefined,
    private readonly makeRequest: <V>(call: GetOrSetCall<V>) => ReadThroughRequest<V>,
  ) {}

  run(): Promise<T> {
    return readForGetOrSet(this.connection, this.resolved, this.raw, this.settings, this);
  }

  answer(entry: ReadOutcome['entry'], lease?: LeaseOutcome): T | Promise<T> {
    return this.connection.readThrough.answer(this, entry, lease, this.context);
  }

  request(): ReadThroughRequest<T> {
    return this.makeRequest(this);
  }
}

const HELD: LeaseOutcome = { status: 'held' };
