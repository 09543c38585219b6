/**
 * One `getOrSet` call: its read (which, on a miss, also settles who computes), its answer, and, for a miss or
 * a refresh, the flight's request: how it reads again while waiting, and its conditional write.
 *
 * Most calls are hits, which need the read and the answer only: the closures and the request a flight needs
 * are made by `request()`, on a miss or a refresh.
 */
import { nextCallOrder } from './call-order';
import type { Dependencies, DependencyRecords } from './dependencies';
import { flagsOf, Kind, MAX_DEPENDENCIES, type TokenStamp } from './entry-format';
import { type EntryWriter, UNCONDITIONAL } from './entry-writer';
import { CacheError } from './errors';
import type { AddedDependencies } from './factory-context';
import type { Factory } from './factory-runner';
import { jittered, type ReadThroughSettings } from './get-or-set-options';
import {
  holdPlace,
  isPlaceholder,
  type LeasedRead,
  type LeaseOutcome,
  type Leases,
  leaseKey,
  takePlaceholder,
} from './lease';
import { toExptime } from './lifetime';
import { readLiveEntry } from './live-entry';
import type { ReadBatcher } from './read-batcher';
import type {
  PreparedWrite,
  ReadOutcome,
  ReadThrough,
  ReadThroughCall,
  ReadThroughRequest,
} from './read-through';
import { type ResolvedKey, stampKeys } from './resolved-key';
import type { OperationContext } from './tracing';
import type { Transport, TransportItem } from './transport';

/** What a `getOrSet` call uses of the client's connection (the parts that live as long as one server list). */
export interface ReadThroughConnection {
  transport: Transport;
  reads: ReadBatcher;
  dependencies: Dependencies;
  writer: EntryWriter;
  readThrough: ReadThrough;
  leases: Leases;
  /**
   * `getOrSet` reads that take a lease, by memcached key, shared by the callers of one turn only: a caller that
   * starts later might start after an invalidation that this read, already sent, did not see.
   */
  leasedReads: Map<string, Promise<LeasedRead>>;
}

export type GetOrSetSettings = ReadThroughSettings & { storeSeconds: number };

/** A caller whose reads keep finding flights from before it started computes alone after this many reads. */
const MAX_READS = 3;

export class GetOrSetCall<T> implements ReadThroughCall<T>, OutcomeReader<T> {
  readonly started = nextCallOrder();
  /** The item the last read found in the entry's place (the call is its own record: no object per hit). */
  item: TransportItem | undefined = undefined;
  private reads = 0;

  constructor(
    private readonly connection: ReadThroughConnection,
    private readonly resolved: ResolvedKey,
    private readonly raw: boolean,
    readonly settings: GetOrSetSettings,
    private readonly factory: Factory<T>,
    private readonly exptime: number,
    private readonly records: readonly DependencyRecords[],
    private readonly namespaced: boolean,
    private readonly context: OperationContext | undefined,
    /** The records of dependencies a factory adds (`ctx.dependOn`), in this call's namespace. */
    private readonly recordsFor: (dependencies: readonly unknown[]) => readonly DependencyRecords[],
    /** The client's clock, for lifetimes a factory decides (`ctx.setOptions`). */
    private readonly now: () => number,
    /** `getOrSetMany`'s batch, told when this key's flight knows whether it computes. */
    private readonly decided?: (computes: boolean) => void,
  ) {}

  run(): Promise<T> {
    this.reads++;
    return readForGetOrSet(this.connection, this.resolved, this.raw, this.settings, this);
  }

  retry(): Promise<T> {
    if (this.reads >= MAX_READS) return this.connection.readThrough.alone(this.request());
    return this.run();
  }

  /** Told what the read found, in the turn it was read: a hit costs no promise more than a `query`. */
  answer(
    entry: ReadOutcome['entry'],
    lease: LeaseOutcome | undefined,
    placeCas: bigint | undefined,
  ): T | Promise<T> {
    return this.connection.readThrough.answer(this, entry, lease, placeCas, this.context);
  }

  request(): ReadThroughRequest<T> {
    const { connection, resolved, raw, settings } = this;
    return {
      memcachedKey: resolved.memcachedKey,
      factory: this.factory,
      settings,
      ...(this.decided === undefined ? {} : { decided: this.decided }),
      store: {
        read: () => readForGetOrSet(connection, resolved, raw, settings, new OutcomeRecord()),
        prepare: (placeCas) => this.prepare(placeCas),
        reachable: () => {
          const { transport } = connection;
          const key = resolved.memcachedKey;
          return transport.servable?.(key) ?? transport.reachable?.(key) ?? true;
        },
        dependOn: (dependencies) => this.dependOn(dependencies),
        backOff: (seconds) => backOff(connection.transport, resolved.memcachedKey, seconds),
      },
    };
  }

  /**
   * Before the factory runs: the CAS the write will be conditional on (the item known to hold the entry's
   * place, else a placeholder taken now) and the dependency tokens as the servers hold them now (never a
   * remembered token: one replaced a moment ago would make the value dead on arrival).
   */
  private async prepare(placeCas: bigint | undefined): Promise<PreparedWrite> {
    const { connection, resolved, raw, records, exptime } = this;
    const { writer, transport, dependencies } = connection;
    const tokenKeys = stampKeys(resolved, records, this.namespaced);
    const [cas, stamps] = await Promise.all([
      placeCas !== undefined || !writer.conditional
        ? placeCas
        : holdPlace(transport, resolved.memcachedKey, this.settings.lockTimeout, raw),
      tokenKeys.length === 0 ? NO_STAMPS : dependencies.readStamps(tokenKeys),
    ]);
    // Conditional writes need a CAS: without one (the server is unreachable) nothing is written.
    if (cas === undefined && writer.conditional) return undefined;
    return async (value, { finished, computeMs, decisions }) => {
      const added = await decisions.dependencies();
      const stamped = withAdded(records, stamps, added);
      const { lifetimeMs, graceSeconds, jitter } = this.settings;
      const lifetime = jittered(decisions.lifetimeSeconds ?? lifetimeMs / 1000, jitter);
      const grace = decisions.graceSeconds ?? graceSeconds;
      const decided =
        jitter > 0 || decisions.lifetimeSeconds !== undefined || decisions.graceSeconds !== undefined;
      const freshness = {
        freshUntil: lifetime === 0 ? Number.POSITIVE_INFINITY : finished + lifetime * 1000,
        computeMs,
      };
      const body = writer.encode(value, raw, stamped.records);
      const status = await writer.writeIf(
        resolved,
        body,
        stamped.stamps,
        decided ? toExptime(lifetime === 0 ? 0 : lifetime + grace, this.now) : exptime,
        freshness,
        stamped.records,
        cas ?? UNCONDITIONAL,
      );
      return status === 'stored';
    };
  }

  /** `ctx.dependOn`: the dependencies' records in this call's namespace, and their tokens read now. */
  private async dependOn(dependencies: readonly unknown[]): Promise<AddedDependencies> {
    const records = this.recordsFor(dependencies);
    const stamps = await this.connection.dependencies.readStamps(records.map((record) => record.tokenKey));
    return { records, stamps };
  }
}

/**
 * After a failed refresh within grace: the lease beside the entry, which the refresher holds, is kept for
 * `graceBackoff` (memcached's own expiry ends it), so every caller anywhere finds it held and serves the stale
 * value meanwhile.
 */
async function backOff(transport: Transport, memcachedKey: string, seconds: number): Promise<void> {
  // memcached counts whole seconds from its own whole-second clock: a TTL of n ends between n - 1 and n seconds
  // later. One more second makes the backoff last at least as long as asked (at most a second longer).
  const key = leaseKey(memcachedKey);
  const exptime = Math.ceil(seconds) + 1;
  // The lease may have run out already (memcached's whole seconds again): then the backoff is a record of its own.
  if (!(await transport.touch(key, exptime)))
    await transport.add(key, BACKOFF, { flags: LEASE_FLAGS, exptime });
}

const BACKOFF = Buffer.from('backoff');
const LEASE_FLAGS = flagsOf(Kind.LEASE);

/** The call's records and stamps with those a factory added (a dependency given twice counts once). */
function withAdded(
  records: readonly DependencyRecords[],
  stamps: readonly TokenStamp[],
  added: readonly AddedDependencies[],
): { records: readonly DependencyRecords[]; stamps: readonly TokenStamp[] } {
  if (added.length === 0) return { records, stamps };
  const allRecords = [...records];
  const allStamps = [...stamps];
  for (const more of added) {
    more.records.forEach((record, i) => {
      if (allRecords.some((known) => known.tokenKey === record.tokenKey)) return;
      allRecords.push(record);
      allStamps.push(more.stamps[i] as TokenStamp);
    });
  }
  if (allRecords.length > MAX_DEPENDENCIES) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `${allRecords.length} dependencies with those added by ctx.dependOn: an entry carries at most ${MAX_DEPENDENCIES}`,
      { context: { dependencies: allRecords.length } },
    );
  }
  return { records: allRecords, stamps: allStamps };
}

/**
 * `getOrSet`'s read, which settles who computes an absent entry:
 * - with server-side leases (hashed keys), the entry's read takes its lease in the same round trip; the callers
 *   of one turn share that read, and so the one lease the server hands out;
 * - otherwise an absent entry is leased with `add` of a placeholder on its own key (the item `mg … N`
 *   creates; a raw key's carries the lease mark), and a placeholder found means someone else computes.
 * A dead entry (a dependency invalidated) is leased beside it, by `ReadThrough` (`Leases.acquire`); the item
 * found in the place goes with the outcome, for the write's CAS.
 */
function readForGetOrSet<R>(
  connection: ReadThroughConnection,
  resolved: ResolvedKey,
  raw: boolean,
  settings: GetOrSetSettings,
  reader: OutcomeReader<R>,
): Promise<R> {
  const { reads, dependencies, leases, leasedReads, transport } = connection;
  const { memcachedKey, namespaceTokenKey } = resolved;
  const seen = reader;
  if (raw || leases.readWithLease === undefined) {
    return readLiveEntry(reads, dependencies, memcachedKey, raw, namespaceTokenKey, undefined, seen).then(
      (entry) => {
        const { item } = seen;
        if (entry !== undefined) return reader.answer(entry, undefined, item?.cas);
        if (item === undefined) {
          return takePlaceholder(transport, memcachedKey, settings.lockTimeout, raw).then((lease) =>
            reader.answer(undefined, lease, undefined),
          );
        }
        if (isPlaceholder(item, raw)) return reader.answer(undefined, HELD, undefined);
        return reader.answer(undefined, undefined, item.cas);
      },
    );
  }
  let leased = leasedReads.get(memcachedKey);
  if (leased === undefined) {
    // With `graceBackoff`, a refresh is leased beside the entry (where a failed one holds its backoff), not
    // by memcached's recache flag: no `R`.
    const graceSeconds = settings.graceBackoffSeconds > 0 ? 0 : settings.graceSeconds;
    leased = leases.readWithLease(memcachedKey, settings.lockTimeout, Math.floor(graceSeconds));
    leasedReads.set(memcachedKey, leased);
    // Shared by the callers of this turn only (see ReadThroughConnection.leasedReads). A resolved promise's
    // `then`, not `queueMicrotask`: test runners fake the latter.
    const read = leased;
    Promise.resolve().then(() => {
      if (leasedReads.get(memcachedKey) === read) leasedReads.delete(memcachedKey);
    });
  }
  const read = leased;
  let lease: LeaseOutcome | undefined;
  let staleCas: bigint | undefined;
  const fetch = () =>
    read.then((leasedRead) => {
      lease = leasedRead.lease;
      staleCas = leasedRead.staleCas;
      return leasedRead.item;
    });
  return readLiveEntry(reads, dependencies, memcachedKey, false, namespaceTokenKey, fetch, seen).then(
    (entry) => reader.answer(entry, lease, seen.item?.cas ?? staleCas),
  );
}

/** Told what a `getOrSet` read found, in the turn it was read; `item` records the item read. */
interface OutcomeReader<R> {
  item?: TransportItem | undefined;
  answer(
    entry: ReadOutcome['entry'],
    lease: LeaseOutcome | undefined,
    placeCas: bigint | undefined,
  ): R | PromiseLike<R>;
}

/** The read of a flight's polls: the outcome itself. */
class OutcomeRecord implements OutcomeReader<ReadOutcome> {
  item: TransportItem | undefined = undefined;

  answer(
    entry: ReadOutcome['entry'],
    lease: LeaseOutcome | undefined,
    placeCas: bigint | undefined,
  ): ReadOutcome {
    return { entry, lease, placeCas };
  }
}

const HELD: LeaseOutcome = { status: 'held' };
const NO_STAMPS: Promise<TokenStamp[]> = Promise.resolve([]);
