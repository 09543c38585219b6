/**
 * Read-through caching: `getOrSet`, with one factory call per key across every client and process.
 *
 * - In one client, concurrent callers of a key share one flight (one factory call, one result or error).
 * - Across clients and processes, a flight takes the key's lease (lease.ts) before computing; a flight that
 *   finds the lease held waits for the holder's value by polling the entry (backing off, never a busy loop),
 *   at most `lockTimeout`, then computes by itself. A server that cannot be reached never makes anyone wait.
 * - An entry carries its "fresh until" time (freshness.ts) and memcached keeps it `grace` seconds longer: a
 *   stale value is served at once while one flight, anywhere, refreshes it in the background.
 * - The dependency tokens are taken before the factory runs and stored with its result, so a dependency
 *   invalidated while the factory ran leaves that result dead for everyone else (no stale set).
 */
import { CacheError } from './errors';
import { type Freshness, isFresh, shouldRefreshEarly } from './freshness';
import type { LeaseOutcome, Leases } from './lease';
import { factoryChannel, leaseWaitChannel } from './tracing';

export interface FactoryContext<T> {
  /** The stale value being refreshed, if there is one. */
  stale: T | undefined;
  /** Aborted when the caller stops waiting (`hardTimeout`): stop the work, its result would be dropped. */
  signal: AbortSignal;
}

export type Factory<T> = (context: FactoryContext<T>) => T | PromiseLike<T>;

/** What a read found: the entry, and the lease when the server handed it out with the read. */
export interface ReadOutcome {
  /** The entry if present and its dependencies are intact (dead entries read as undefined). */
  entry: { value: unknown; freshness?: Freshness } | undefined;
  /** Present with server-side leases (`Leases.readWithLease`): who computes, learnt in the same round trip. */
  lease?: LeaseOutcome;
}

/** How `getOrSet` reads an entry and writes one; the client provides them for the key being read. */
export interface ReadThroughStore {
  read(): Promise<ReadOutcome>;
  /**
   * Takes the dependency tokens now, before the factory runs, and returns the write that stores a value with
   * them: a dependency invalidated in between makes that value dead on arrival.
   */
  prepare(): Promise<(value: unknown, freshness: Freshness) => Promise<unknown>>;
  /** False while the entry's server is known to be unreachable: nobody waits on it. */
  reachable(): boolean;
}

/** Resolved, validated `getOrSet` settings (see `GetOrSetOptions` for their meaning). */
export interface ReadThroughSettings {
  lifetimeMs: number;
  lockTimeout: number;
  timeout: number | undefined;
  hardTimeout: number | undefined;
  earlyRefresh: number;
}

/** One `getOrSet` call: what it reads, how it computes, where it writes. */
export interface ReadThroughRequest<T> {
  memcachedKey: string;
  factory: Factory<T>;
  settings: ReadThroughSettings;
  store: ReadThroughStore;
}

/** One `getOrSet` call as `ReadThrough.answer` sees it: its settings, and its request, made only for a flight. */
export interface ReadThroughCall<T> {
  readonly settings: ReadThroughSettings;
  request(): ReadThroughRequest<T>;
}

/** First wait between polls for another process's value; it grows by half each time up to the cap. */
const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 100;

export class ReadThrough {
  private readonly flights = new Map<string, Promise<unknown>>();

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
    outcome: { hit?: boolean; stale?: boolean } | undefined,
  ): T | Promise<T> {
    const { settings } = call;
    if (outcome !== undefined) {
      outcome.hit = entry !== undefined;
      outcome.stale = entry !== undefined && !isFresh(entry.freshness, this.now());
    }
    if (entry === undefined) return this.flight(call.request(), undefined, lease);
    const value = entry.value as T;
    const now = this.now();
    if (isFresh(entry.freshness, now)) {
      // A lease won with a fresh value: memcached's clock says its grace has begun; refresh as if stale.
      if (lease?.status === 'won' || shouldRefreshEarly(entry.freshness, now, settings.earlyRefresh)) {
        this.background(this.flight(call.request(), { value }, lease));
      }
      return value;
    }
    // Stale, within grace (memcached keeps the entry no longer than that): serve it, refresh once, anywhere.
    const refresh = this.flight(call.request(), { value }, lease);
    if (settings.timeout === undefined) {
      this.background(refresh);
      return value;
    }
    return withSoftTimeout(refresh, settings.timeout, value);
  }

  /**
   * Joins the key's flight in this client, or starts one. A lease that came with the read goes with the
   * flight it starts; one that finds a flight running is left to expire (at most `lockTimeout`): the server
   * hands out one lease per key at a time, so that only happens as the running flight ends.
   */
  private flight<T>(
    request: ReadThroughRequest<T>,
    stale: { value: T } | undefined,
    lease?: LeaseOutcome,
  ): Promise<T> {
    const { memcachedKey } = request;
    const running = this.flights.get(memcachedKey);
    if (running !== undefined) return running as Promise<T>;
    const flight = this.fly(request, stale, lease).finally(() => {
      this.flights.delete(memcachedKey);
    });
    this.flights.set(memcachedKey, flight);
    return flight;
  }

  private async fly<T>(
    request: ReadThroughRequest<T>,
    stale: { value: T } | undefined,
    leased: LeaseOutcome | undefined,
  ): Promise<T> {
    const { memcachedKey, settings } = request;
    let lease = leased ?? (await this.leases.acquire(memcachedKey, settings.lockTimeout));
    if (lease.status === 'held') {
      // Someone else refreshes: a stale value is good enough meanwhile; without one, wait for theirs.
      if (stale !== undefined) return stale.value;
      const found = await (leaseWaitChannel.hasSubscribers
        ? leaseWaitChannel.tracePromise(() => this.waitForValue(request), { memcachedKey })
        : this.waitForValue(request));
      if (found !== undefined && 'value' in found) return found.value as T;
      // Polling with server-side leases: the holder's lease ran out and this caller was handed the next one.
      if (found !== undefined) lease = found.lease;
    }
    if (lease.status === 'won') {
      const { release } = lease;
      try {
        return await this.compute(request, stale);
      } finally {
        release().catch(() => {});
      }
    }
    // No lease to be had (its server is down), or the holder did not deliver within `lockTimeout`.
    return this.compute(request, stale);
  }

  private async compute<T>(
    { memcachedKey, factory, settings, store }: ReadThroughRequest<T>,
    stale: { value: T } | undefined,
  ): Promise<T> {
    const write = await store.prepare();
    const started = this.now();
    const value = await (factoryChannel.hasSubscribers
      ? factoryChannel.tracePromise(() => runFactory(factory, stale?.value, settings.hardTimeout), {
          memcachedKey,
        })
      : runFactory(factory, stale?.value, settings.hardTimeout));
    const finished = this.now();
    await write(value, {
      freshUntil: settings.lifetimeMs === 0 ? Number.POSITIVE_INFINITY : finished + settings.lifetimeMs,
      computeMs: finished - started,
    });
    return value;
  }

  /**
   * Polls the entry until a fresh value appears, `lockTimeout` passes, or its server becomes unreachable;
   * with server-side leases a poll may be handed the lease instead (the holder's ran out): then it computes.
   */
  private async waitForValue({
    settings,
    store,
  }: Pick<ReadThroughRequest<unknown>, 'settings' | 'store'>): Promise<
    { value: unknown } | { lease: LeaseOutcome & { status: 'won' } } | undefined
  > {
    const giveUpAt = this.now() + settings.lockTimeout;
    let pause = FIRST_POLL_MS;
    for (;;) {
      const left = giveUpAt - this.now();
      if (left <= 0 || !store.reachable()) return undefined;
      await sleep(Math.min(left, pause * (0.75 + Math.random() / 2)));
      pause = Math.min(MAX_POLL_MS, pause * 1.5);
      const { entry, lease } = await store.read();
      if (entry !== undefined && isFresh(entry.freshness, this.now())) return entry;
      if (lease?.status === 'won') return { lease };
    }
  }

  /** A refresh nobody waits for: its failure must never become an unhandled rejection. */
  private background(flight: Promise<unknown>): void {
    flight.catch(() => {});
  }
}

/** Runs the user's factory in a promise chain we own; `hardTimeout` rejects and aborts its signal. */
function runFactory<T>(
  factory: Factory<T>,
  stale: T | undefined,
  hardTimeout: number | undefined,
): Promise<T> {
  const controller = new AbortController();
  const result = new Promise<T>((resolve) => resolve(factory({ stale, signal: controller.signal })));
  if (hardTimeout === undefined) return result;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new CacheError(
        'ERR_FACTORY_TIMEOUT',
        `the factory did not finish within hardTimeout (${hardTimeout} ms): its result is dropped and its signal aborted`,
        { context: { hardTimeout } },
      );
      controller.abort(error);
      reject(error);
    }, hardTimeout);
    result.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The refresh's value if it comes within `timeout`, else (or if it fails) the stale value. */
function withSoftTimeout<T>(refresh: Promise<T>, timeout: number, stale: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(stale), timeout);
    refresh.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(stale);
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
