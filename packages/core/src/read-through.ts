/**
 * Read-through caching: `getOrSet`, with one factory call per key across every client and process, and the
 * guarantee that a value computed before an invalidation is never served after it.
 *
 * - In one client, concurrent callers of a key share one flight (one factory call, one result or error). A
 *   caller takes a flight's result only if the flight's basis (when its factory started, or when the read that
 *   found its value was sent) comes after the caller started: an invalidation that resolved before the caller
 *   started then came before that basis. Otherwise the caller reads again (call-order.ts: the basis clock).
 * - Across clients and processes, a flight takes the key's lease (lease.ts) before computing; a flight that
 *   finds the lease held waits for the holder's value by polling the entry (backing off, never a busy loop), at
 *   most `lockTimeout`, then computes by itself. A poll that finds the holder's value dead (a dependency was
 *   invalidated while it computed) takes the lease beside it: one caller computes again, not all of them.
 * - The write is conditional: before the factory starts, the flight knows the CAS of the item holding the
 *   entry's place (the lease's placeholder, or the entry being refreshed) and the current dependency tokens;
 *   the value is written with a CAS against that item and stamped with those tokens. An invalidation in
 *   between (of the key, a dependency, the namespace, everything) leaves it unstored or dead, never served.
 * - An entry carries its "fresh until" time (freshness.ts) and memcached keeps it `grace` seconds longer: a
 *   stale value is served at once while one flight, anywhere, refreshes it in the background.
 * - `close()` settles every flight's callers with `ERR_CLIENT_CLOSED`; no factory starts after it.
 */
import { nextCallOrder } from './call-order';
import { CacheError } from './errors';
import { type DependOn, FactoryDecisions } from './factory-context';
import { type Factory, runFactory, withSoftTimeout } from './factory-runner';
import { type Freshness, isFresh, shouldRefreshEarly } from './freshness';
import type { ReadThroughSettings } from './get-or-set-options';
import type { LeaseOutcome, Leases } from './lease';
import { warnOnce } from './option-checks';
import { factoryChannel, leaseWaitChannel } from './tracing';

/** What a read found: the entry, the item in its place, and the lease when the server handed it out. */
export interface ReadOutcome {
  /** The entry if present and its dependencies are intact (dead entries read as undefined). */
  entry: { value: unknown; freshness?: Freshness } | undefined;
  /** Present when the read settled who computes (a server-side lease, or a placeholder taken with `add`). */
  lease?: LeaseOutcome;
  /**
   * The CAS of the item holding the entry's place as read: the entry, live, dead, or marked stale by another
   * client; undefined when absent or a placeholder (a placeholder's CAS comes with its lease).
   */
  placeCas?: bigint | undefined;
}

/** How a factory ran: when it finished, how long it took, what it decided. */
export interface Computed {
  finished: number;
  computeMs: number;
  decisions: FactoryDecisions;
}

/** The write prepared before a factory runs; `undefined` when nothing can be written (no server reachable). */
export type PreparedWrite = ((value: unknown, computed: Computed) => Promise<boolean>) | undefined;

/** How `getOrSet` reads an entry and writes one; the client provides them for the key being read. */
export interface ReadThroughStore {
  read(): Promise<ReadOutcome>;
  /**
   * Before the factory runs: the write condition (`placeCas`, the CAS of the item known to hold the entry's
   * place; without one, a placeholder is taken now and its CAS read) and the current dependency tokens. The
   * write it returns stores the value only if nothing replaced that item meanwhile; true when stored.
   */
  prepare(placeCas: bigint | undefined): Promise<PreparedWrite>;
  /** False while the entry's server is known to be unreachable: nobody waits on it. */
  reachable(): boolean;
  /** The factory context's `dependOn`: the dependencies' records and tokens, read when it is called. */
  dependOn: DependOn;
  /** Keeps the refresh lease beside the entry held this many seconds (`graceBackoff`). */
  backOff(seconds: number): Promise<void>;
}

/** One `getOrSet` call: what it reads, how it computes, where it writes. */
export interface ReadThroughRequest<T> {
  memcachedKey: string;
  factory: Factory<T>;
  settings: ReadThroughSettings;
  store: ReadThroughStore;
  /**
   * Told when the flight knows whether it computes (`getOrSetMany` gathers the keys that do into one factory
   * call, and must know when every key has decided).
   */
  decided?: (computes: boolean) => void;
}

/** One `getOrSet` call as `ReadThrough.answer` sees it. */
export interface ReadThroughCall<T> {
  readonly settings: ReadThroughSettings;
  /** When the call started, on the basis clock (call-order.ts). */
  readonly started: number;
  /** The flight's request, made only when a flight is needed. */
  request(): ReadThroughRequest<T>;
  /** Reads again and answers: a flight's result that came from before this call started is not for it. */
  retry(): Promise<T>;
}

/** A flight's outcome: the value, and its basis (when the factory started or the read that found it was sent). */
interface Landed<T> {
  value: T;
  basis: number;
}

/** A running flight, and the lease it started with. */
interface Flight<T> {
  landed: Promise<Landed<T>>;
  lease: LeaseOutcome | undefined;
}

/** First wait between polls for another process's value; it grows by half each time up to the cap. */
const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 100;

export class ReadThrough {
  /** The running flight per key, with the lease it started with. */
  private readonly flights = new Map<string, Flight<unknown>>();
  private closed = false;
  /** The callers' side of every flight, settled by `close()`: no caller is left pending. */
  private readonly closeWaiters = new Set<(error: CacheError) => void>();

  constructor(
    private readonly leases: Leases,
    private readonly now: () => number,
  ) {}

  /**
   * What a read found decides: the value at once, a refresh beside it, or a flight to wait for. The client calls
   * it in the read's own turn (not an async function, no promise in between: a hit settles in as few microtask
   * turns as a `query`); the call's request is made only when a flight is needed.
   */
  answer<T>(
    call: ReadThroughCall<T>,
    entry: ReadOutcome['entry'],
    lease: LeaseOutcome | undefined,
    placeCas: bigint | undefined,
    outcome: { hit?: boolean; stale?: boolean } | undefined,
  ): T | Promise<T> {
    if (outcome !== undefined) {
      outcome.hit = entry !== undefined;
      outcome.stale = entry !== undefined && !isFresh(entry.freshness, this.now());
    }
    if (entry === undefined) return this.take(call, this.flight(call, undefined, lease, placeCas));
    const value = entry.value as T;
    const now = this.now();
    if (isFresh(entry.freshness, now)) {
      // A lease won with a fresh value: memcached's clock says its grace has begun; refresh as if stale.
      if (lease?.status === 'won' || shouldRefreshEarly(entry.freshness, now, call.settings.earlyRefresh)) {
        background(this.flight(call, { value }, lease, placeCas));
      }
      return value;
    }
    // Stale beyond this call's grace (a soft invalidation of an entry kept longer, or a call without grace):
    // as good as gone. Without grace a soft invalidation is a hard one.
    const graceEnds = (entry.freshness?.freshUntil ?? now) + call.settings.graceSeconds * 1000;
    if (now >= graceEnds) return this.take(call, this.flight(call, undefined, lease, placeCas));
    // Stale, within grace (memcached keeps the entry no longer than that): serve it, refresh once, anywhere.
    const refresh = this.flight(call, { value }, lease, placeCas);
    if (call.settings.timeout === undefined) {
      background(refresh);
      return value;
    }
    // The stale value came from this call's own read; a refresh's value only if its basis is this call's.
    const fresh = refresh.then((landed) => (landed.basis >= call.started ? landed.value : value));
    return withSoftTimeout(fresh, call.settings.timeout, value);
  }

  /** Settles every flight's callers with `ERR_CLIENT_CLOSED`; no factory starts from now on. */
  close(): void {
    this.closed = true;
    for (const reject of this.closeWaiters) reject(closedError());
    this.closeWaiters.clear();
  }

  /**
   * Computes for one caller, sharing nothing: for a caller whose reads kept finding flights from before it
   * started (a key invalidated over and over), so that it is never starved.
   */
  alone<T>(request: ReadThroughRequest<T>): Promise<T> {
    return this.closable(this.compute(request, undefined, undefined)).then((landed) => landed.value);
  }

  /** A flight's value for this call, if its basis is recent enough; else the call reads again. */
  private take<T>(call: ReadThroughCall<T>, flight: Promise<Landed<T>>): Promise<T> {
    return flight.then((landed) => (landed.basis >= call.started ? landed.value : call.retry()));
  }

  /**
   * Joins the key's flight in this client, or starts one. A lease won with the read starts a flight of its
   * own: the server hands out a key's lease once at a time, so a flight still running holds an older one
   * (its place was invalidated, or its value is in and now due for refresh).
   */
  private flight<T>(
    call: ReadThroughCall<T>,
    stale: { value: T } | undefined,
    lease: LeaseOutcome | undefined,
    placeCas: bigint | undefined,
  ): Promise<Landed<T>> {
    const request = call.request();
    const { memcachedKey } = request;
    const running = this.flights.get(memcachedKey);
    // Callers of one turn share one server read, and so one won lease: the flight it started is theirs.
    if (running !== undefined && (lease?.status !== 'won' || running.lease === lease)) {
      return running.landed as Promise<Landed<T>>;
    }
    const flight = { lease } as Flight<T>;
    flight.landed = this.closable(this.fly(flight, request, call.started, stale, lease, placeCas)).finally(
      () => {
        if (this.flights.get(memcachedKey) === flight) this.flights.delete(memcachedKey);
      },
    );
    this.flights.set(memcachedKey, flight);
    return flight.landed;
  }

  /** Settles with `ERR_CLIENT_CLOSED` if the client closes first. */
  private closable<T>(flight: Promise<T>): Promise<T> {
    if (this.closed) {
      flight.catch(() => {});
      return Promise.reject(closedError());
    }
    return new Promise<T>((resolve, reject) => {
      this.closeWaiters.add(reject);
      flight.then(
        (value) => {
          this.closeWaiters.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.closeWaiters.delete(reject);
          reject(error);
        },
      );
    });
  }

  private async fly<T>(
    flight: Flight<T>,
    request: ReadThroughRequest<T>,
    started: number,
    stale: { value: T } | undefined,
    leased: LeaseOutcome | undefined,
    readCas: bigint | undefined,
  ): Promise<Landed<T>> {
    const { memcachedKey, settings } = request;
    // Without a lease from the read (a dead or stale entry, a raw key): the lease record beside the entry.
    let lease = leased ?? (await this.leases.acquire(memcachedKey, settings.lockTimeout));
    let placeCas = placeCasOf(lease, readCas);
    if (lease.status === 'held') {
      // Someone else refreshes: a stale value is good enough meanwhile; without one, wait for theirs.
      if (stale !== undefined) return { value: stale.value, basis: started };
      request.decided?.(false);
      const found = await (leaseWaitChannel.hasSubscribers
        ? leaseWaitChannel.tracePromise(() => this.waitForValue(flight, request), { memcachedKey })
        : this.waitForValue(flight, request));
      if ('landed' in found) return found.landed;
      if ('value' in found) return found;
      lease = found.lease;
      placeCas = found.placeCas;
    }
    // `won`; or no lease to be had (its server is down), or the holder did not deliver within `lockTimeout`.
    request.decided?.(true);
    let stored = false;
    let backingOff = false;
    try {
      const landed = await this.compute(request, stale, placeCas);
      stored = landed.stored;
      return landed;
    } catch (error) {
      // A failed refresh within grace: with `graceBackoff`, the lease beside the entry stays held that long,
      // and everyone serves the stale value (FusionCache's fail-safe throttle, bentocache's graceBackoff).
      const { graceBackoffSeconds } = settings;
      if (
        stale !== undefined &&
        graceBackoffSeconds > 0 &&
        lease.status === 'won' &&
        lease.cas === undefined
      ) {
        backingOff = true;
        await request.store.backOff(graceBackoffSeconds).catch(() => {});
      }
      throw error;
    } finally {
      // A placeholder or recached entry is ended by the write; a lease beside the entry, or one whose value
      // was not stored, is handed back at once so the next caller need not wait it out.
      if (lease.status === 'won' && !backingOff && (!stored || lease.cas === undefined)) {
        lease.release().catch(() => {});
      }
    }
  }

  private async compute<T>(
    { memcachedKey, factory, settings, store }: ReadThroughRequest<T>,
    stale: { value: T } | undefined,
    placeCas: bigint | undefined,
  ): Promise<Landed<T> & { stored: boolean }> {
    this.assertOpen();
    const write = await store.prepare(placeCas);
    this.assertOpen();
    const basis = nextCallOrder();
    const started = this.now();
    const decisions = new FactoryDecisions();
    const run = () => runFactory(factory, decisions, stale?.value, store.dependOn, settings.hardTimeout);
    const value = await (factoryChannel.hasSubscribers
      ? factoryChannel.tracePromise(run, { memcachedKey })
      : run());
    const finished = this.now();
    let stored = false;
    if (write !== undefined && !decisions.skipped) {
      try {
        stored = await write(value, { finished, computeMs: finished - started, decisions });
      } catch (error) {
        // The value is the callers' all the same; only caching it failed (too large, not serializable).
        warnOnce(
          `getOrSet could not cache a computed value (${(error as { code?: string }).code ?? 'error'}); its callers got it, nothing was stored`,
          error,
        );
      }
    }
    return { value, basis, stored };
  }

  /**
   * Polls the entry until a fresh value appears, a newer flight of this client takes over, `lockTimeout` passes, or its server becomes unreachable. A
   * poll may instead hand this caller the lease: the holder's ran out (server-side leases, or the placeholder
   * went), or the holder's value is dead and the lease beside it was free.
   */
  private async waitForValue<T>(
    flight: Flight<T>,
    { memcachedKey, settings, store }: ReadThroughRequest<T>,
  ): Promise<Landed<T> | Flight<T> | { lease: LeaseOutcome; placeCas: bigint | undefined }> {
    const giveUpAt = this.now() + settings.lockTimeout;
    let pause = FIRST_POLL_MS;
    let placeCas: bigint | undefined;
    for (;;) {
      const left = giveUpAt - this.now();
      if (left <= 0 || !store.reachable()) return { lease: NO_LEASE, placeCas };
      await sleep(Math.min(left, pause * (0.75 + Math.random() / 2)));
      this.assertOpen();
      // A caller of this client won the lease meanwhile (its read came back after ours): its flight started
      // after every caller of this one, so they all take its value.
      const newer = this.flights.get(memcachedKey);
      if (newer !== undefined && newer !== flight) return newer as Flight<T>;
      pause = Math.min(MAX_POLL_MS, pause * 1.5);
      const basis = nextCallOrder();
      const { entry, lease, placeCas: found } = await store.read();
      if (entry !== undefined && isFresh(entry.freshness, this.now()))
        return { value: entry.value as T, basis };
      placeCas = placeCasOf(lease, found);
      if (lease?.status === 'won') return { lease, placeCas };
      if (entry === undefined && found !== undefined) {
        // Dead (the holder's value lost a dependency while it computed), or marked stale with nobody
        // refreshing it (the plain read that was handed its lease does not compute). One poller recomputes.
        const beside = await this.leases.acquire(memcachedKey, settings.lockTimeout);
        if (beside.status !== 'held') return { lease: beside, placeCas };
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

/** The CAS the write is conditional on: the lease's own item, else the item the read found in the place. */
function placeCasOf(lease: LeaseOutcome | undefined, readCas: bigint | undefined): bigint | undefined {
  return (lease?.status === 'won' ? lease.cas : undefined) ?? readCas;
}

function closedError(): CacheError {
  return new CacheError(
    'ERR_CLIENT_CLOSED',
    'this MemcachedClient was closed while the call waited: make a new one, or close it only when the application stops',
  );
}

/** A refresh nobody waits for: its failure must never become an unhandled rejection. */
function background(flight: Promise<unknown>): void {
  flight.catch(() => {});
}

const NO_LEASE: LeaseOutcome = { status: 'unavailable' };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
