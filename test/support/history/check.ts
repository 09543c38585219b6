/**
 * The checker, after Jepsen's: it reads a finished history and judges every read that returned a value
 * against every invalidation that resolved before the read began.
 *
 * A read R of key k returning value (v, issuedAt) is STALE iff some invalidation I covering k has
 *   I.end < R.start        I had resolved (in its caller's process) before R was called,
 *   issuedAt < I.start     the value's factory started, or its `set` was issued, before I was called,
 *   v < after(I, k)        the value was computed from a version older than the one I's bump made.
 * Why there are no false positives: every bound is taken on the safe side. `I.end` is read after the
 * invalidation's promise settled and `R.start` before the read was called, so "I.end < R.start" can only
 * understate how far apart they were; the versions come from one process's database, bumped and acknowledged
 * before `I.start`, so `v < after(I, k)` means the value's database read happened before the bump. Failed
 * invalidations (rejected) are never held against a read, and misses and failed reads are never stale.
 *
 * One case is set apart: a value from a `set` that another client issued before I was called but that had
 * not settled when I began. The set and the invalidation were concurrent, so the set may land after I in
 * memcached and be read back; no client can prevent that without a clock shared with the writer (its bytes
 * simply arrive after the delete). API.md's wording ("written by a `set` issued before it") counts it as
 * stale; the checker counts it apart (`concurrentSets`), and as stale only with `strictSets`. A factory's
 * value gets no such exception: the read-through takes its lease before the factory starts, so an
 * invalidation called after that start can always void the write.
 *
 * Soft invalidations (API.md "Read-through, round 2": the entries turn stale, `getOrSet` serves them within
 * grace while one caller refreshes, `query` misses, without grace it is hard) allow exactly one thing more: a
 * read-through call (`getOrSet`, or a key of `getOrSetMany`) with grace G > 0 may return a value the soft
 * invalidation I would otherwise forbid, if the call started before I.end + G. The bound is the safe side
 * again: the library measures grace from the time it took when I was called (≤ I.end) to its own reading of
 * the clock once the entry was read (≥ R.start). A `query`, a call without grace, or a call that started G or
 * more after I resolved, is held to I as to a hard invalidation; and a value allowed by one soft invalidation
 * is still judged against every other invalidation before the read. Those allowed are counted
 * (`servedWithinGrace`), so a run shows the soft path was taken.
 */
import type { CachedValue, HistoryEvent, InvalidationEvent, ReadEvent, WriteEvent } from './history';

export interface StaleRead {
  read: ReadEvent & { result: CachedValue };
  /** The latest invalidation the value should not have survived. */
  invalidation: InvalidationEvent;
  /** The write that made the value, when the history has it. */
  origin: WriteEvent | undefined;
}

export interface CheckResult {
  reads: number;
  /** Reads that returned a value of this history. */
  valueReads: number;
  misses: number;
  failedReads: number;
  /** Reads that returned something else (another key's value, or not a value at all). */
  damaged: ReadEvent[];
  /** Read-through reads: `getOrSet` calls, and one per key of each `getOrSetMany` call. */
  getOrSetReads: number;
  /** Of the read-through reads, those of `getOrSetMany` keys. */
  getOrSetManyReads: number;
  /** Read-through reads answered with a value their own factory did not compute (a hit, a flight, a lease wait). */
  getOrSetHits: number;
  invalidations: number;
  /** Of the invalidations (that did not fail), those made with `soft: true`. */
  softInvalidations: number;
  failedInvalidations: number;
  /** Value reads of a key that some invalidation had covered before the read began: what the checker judged. */
  readsAfterInvalidation: number;
  writes: { factory: number; set: number };
  stale: StaleRead[];
  /** Values of a `set` still in flight when another client's invalidation began (see the header). */
  concurrentSets: StaleRead[];
  /**
   * Values from before a soft invalidation that a read-through call returned within its grace of it: what soft
   * invalidation allows (see the header), not stale.
   */
  servedWithinGrace: StaleRead[];
}

/** Microseconds (the history's clock) per second (`grace`'s unit). */
const US_PER_S = 1_000_000;

/** A read through `getOrSet` or `getOrSetMany`, as opposed to a `query`. */
export function readsThrough(read: ReadEvent): boolean {
  return read.op === 'getOrSet' || read.op === 'getOrSetMany';
}

/**
 * Whether `read` may return a value from before `invalidation`: only a soft one, only through a read-through
 * call with grace, and only if the call started within that grace after the invalidation resolved.
 */
export function allowedWithinGrace(read: ReadEvent, invalidation: InvalidationEvent): boolean {
  return (
    invalidation.soft === true &&
    readsThrough(read) &&
    read.start < invalidation.end + (read.grace ?? 0) * US_PER_S
  );
}

export interface CheckOptions {
  /** Count `concurrentSets` as stale, as API.md's wording reads. @default false */
  strictSets?: boolean;
  /**
   * L1 (issue 24): how long (µs) a read by a client other than the invalidating one may still return what the
   * invalidation removed — the clients' `maxStale`. The invalidating client gets no allowance. @default 0
   */
  l1StaleUs?: number;
}

export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions = {}): CheckResult {
  const invalidationsByKey = new Map<string, InvalidationEvent[]>();
  const origins = new Map<string, WriteEvent>();
  const result: CheckResult = {
    reads: 0,
    valueReads: 0,
    misses: 0,
    failedReads: 0,
    damaged: [],
    getOrSetReads: 0,
    getOrSetManyReads: 0,
    getOrSetHits: 0,
    invalidations: 0,
    softInvalidations: 0,
    failedInvalidations: 0,
    readsAfterInvalidation: 0,
    writes: { factory: 0, set: 0 },
    stale: [],
    concurrentSets: [],
    servedWithinGrace: [],
  };
  for (const event of events) {
    if (event.type === 'write') {
      origins.set(event.origin, event);
      result.writes[event.via]++;
    } else if (event.type === 'invalidation') {
      if (event.error !== undefined) {
        result.failedInvalidations++;
        continue;
      }
      result.invalidations++;
      if (event.soft === true) result.softInvalidations++;
      for (const key of Object.keys(event.covered)) {
        const list = invalidationsByKey.get(key);
        if (list === undefined) invalidationsByKey.set(key, [event]);
        else list.push(event);
      }
    }
  }
  for (const list of invalidationsByKey.values()) list.sort((a, b) => a.end - b.end);
  const l1StaleUs = options.l1StaleUs ?? 0;

  for (const read of events) {
    if (read.type !== 'read') continue;
    result.reads++;
    if (readsThrough(read)) result.getOrSetReads++;
    if (read.op === 'getOrSetMany') result.getOrSetManyReads++;
    if (read.error !== undefined) {
      result.failedReads++;
      continue;
    }
    if (read.damaged !== undefined) {
      result.damaged.push(read);
      continue;
    }
    const value = read.result;
    if (value === null) {
      result.misses++;
      continue;
    }
    if (value.key !== read.key) {
      result.damaged.push(read);
      continue;
    }
    result.valueReads++;
    if (readsThrough(read) && read.computedHere !== true) result.getOrSetHits++;
    const origin = origins.get(value.origin);
    let judged = false;
    let violated: InvalidationEvent | undefined;
    let raced: InvalidationEvent | undefined;
    let withinGrace: InvalidationEvent | undefined;
    const ofKey = invalidationsByKey.get(read.key) ?? [];
    for (const invalidation of ofKey) {
      if (invalidation.end >= read.start) break;
      // Another client's L1 may serve its copy until maxStale after the invalidation resolved.
      if (
        l1StaleUs > 0 &&
        invalidation.client !== read.client &&
        invalidation.end + l1StaleUs >= read.start
      ) {
        continue;
      }
      judged = true;
      const after = invalidation.covered[read.key] as number;
      if (value.issuedAt >= invalidation.start || value.v >= after) continue;
      if (allowedWithinGrace(read, invalidation)) {
        withinGrace = invalidation;
        continue;
      }
      const concurrentSet =
        origin?.via === 'set' && origin.end >= invalidation.start && origin.client !== invalidation.client;
      if (concurrentSet && options.strictSets !== true) raced = invalidation;
      else violated = invalidation;
    }
    if (judged) result.readsAfterInvalidation++;
    const judgedRead = read as ReadEvent & { result: CachedValue };
    if (violated !== undefined) result.stale.push({ read: judgedRead, invalidation: violated, origin });
    else if (raced !== undefined)
      result.concurrentSets.push({ read: judgedRead, invalidation: raced, origin });
    else if (withinGrace !== undefined)
      result.servedWithinGrace.push({ read: judgedRead, invalidation: withinGrace, origin });
  }
  return result;
}

/** One line: what was checked and what was found. */
export function summarize(result: CheckResult): string {
  const percent = (n: number, of: number) => (of === 0 ? '0' : ((100 * n) / of).toFixed(2));
  return [
    `${result.reads} reads (${result.valueReads} values, ${result.misses} misses, ${result.failedReads} failed)`,
    `${result.invalidations} invalidations (${result.softInvalidations} soft, ${result.failedInvalidations} failed)`,
    `${result.writes.factory} factory runs, ${result.writes.set} sets`,
    `${result.getOrSetHits}/${result.getOrSetReads} getOrSet(Many) reads answered without their own factory (${result.getOrSetManyReads} of getOrSetMany keys)`,
    `${result.readsAfterInvalidation} value reads judged against an earlier invalidation`,
    `${result.stale.length} STALE (${percent(result.stale.length, result.valueReads)}% of value reads)`,
    `${result.servedWithinGrace.length} old values served within grace after a soft invalidation`,
    `${result.concurrentSets.length} values of sets concurrent with an invalidation`,
    ...(result.damaged.length > 0 ? [`${result.damaged.length} DAMAGED`] : []),
  ].join(', ');
}

/** Stale reads broken down, to tell which path serves them: by read, by invalidation kind, by value origin. */
export function breakdown(result: CheckResult): string {
  const count = (label: (s: StaleRead) => string) => {
    const counts = new Map<string, number>();
    for (const s of result.stale) counts.set(label(s), (counts.get(label(s)) ?? 0) + 1);
    return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
  };
  if (result.stale.length === 0) return 'no stale reads';
  return [
    `by read: ${count((s) => s.read.op)}`,
    `by invalidation: ${count((s) => `${s.invalidation.kind}${s.invalidation.soft ? ' (soft)' : ''}`)}`,
    `by origin: ${count((s) => s.origin?.via ?? 'unknown')}`,
    `same process as the invalidation: ${count((s) => String(s.read.pid === s.invalidation.pid))}`,
    // A write that had not settled when the invalidation was called raced it; one that had, did not.
    `write still in flight when the invalidation began: ${count((s) => (s.origin === undefined ? 'unknown' : `${s.origin.via} ${s.origin.end > s.invalidation.start}`))}`,
  ].join('; ');
}

export interface ReportOptions {
  seed: number;
  label: string;
  /** Stale reads shown in full. @default 3 */
  shown?: number;
  /** Events touching the key shown before each. @default 30 */
  context?: number;
  /** Show only the stale reads of values that came from a factory, or from a `set`. @default both */
  origin?: 'factory' | 'set';
}

/** The failure report: the seed, then each shown stale read with its invalidation, origin and the key's past. */
export function formatReport(
  result: CheckResult,
  events: readonly HistoryEvent[],
  options: ReportOptions,
): string {
  const { seed, label, shown = 3, context = 30, origin: only } = options;
  const t0 = events.reduce((min, e) => Math.min(min, eventTime(e)), Number.POSITIVE_INFINITY);
  const lines = [
    `${label}: ${summarize(result)}`,
    `  ${breakdown(result)}`,
    `  reproduce the operation mix with HISTORY_SEED=${seed} (timing is the machine's)`,
  ];
  for (const damaged of result.damaged.slice(0, shown)) {
    lines.push('', `DAMAGED read: ${formatEvent(damaged, t0)}`);
  }
  const chosen = result.stale.filter((s) => only === undefined || s.origin?.via === only);
  for (const [i, stale] of chosen.slice(0, shown).entries()) {
    const { read, invalidation, origin } = stale;
    lines.push(
      '',
      `STALE read ${i + 1} of ${chosen.length}${only === undefined ? '' : ` (values from ${only === 'set' ? 'a set' : 'a factory'})`}:`,
      `  read          ${formatEvent(read, t0)}`,
      `  invalidation  ${formatEvent(invalidation, t0)}`,
      `  value origin  ${origin === undefined ? `${read.result.origin} (not in the history)` : formatEvent(origin, t0)}`,
      `  why: the invalidation resolved at ${at(invalidation.end, t0)}, before the read began at ${at(read.start, t0)};`,
      `       the value (v${read.result.v}, issued ${at(read.result.issuedAt, t0)}) predates it (started ${at(invalidation.start, t0)}, ${read.key} bumped to v${invalidation.covered[read.key]})`,
      ...(invalidation.soft === true
        ? [
            readsThrough(read) && (read.grace ?? 0) > 0
              ? `       soft, but the read began ${((read.start - invalidation.end) / US_PER_S).toFixed(3)} s after it resolved, past its grace (${read.grace} s)`
              : `       soft, but a ${readsThrough(read) ? 'read-through call without grace' : 'query'} may not serve a softly invalidated value`,
          ]
        : []),
      `  last ${context} events touching ${read.key} up to the read:`,
    );
    const touching = events
      .filter((e) => touches(e, read.key) && eventTime(e) <= read.end)
      .sort((a, b) => eventTime(a) - eventTime(b))
      .slice(-context);
    for (const event of touching) {
      lines.push(`    ${event === read ? '>' : ' '} ${formatEvent(event, t0, read.key)}`);
    }
  }
  return lines.join('\n');
}

function touches(event: HistoryEvent, key: string): boolean {
  return event.type === 'invalidation' ? key in event.covered : event.key === key;
}

function eventTime(event: HistoryEvent): number {
  return event.type === 'write' ? event.issuedAt : event.start;
}

function at(us: number, t0: number): string {
  return `+${((us - t0) / 1000).toFixed(3)}ms`;
}

function value(v: CachedValue, t0: number): string {
  return `v${v.v} (${v.origin}, issued ${at(v.issuedAt, t0)})`;
}

/** One event as a line: when, who, what, outcome. */
export function formatEvent(event: HistoryEvent, t0: number, key?: string): string {
  const span = `[${at(event.type === 'write' ? event.issuedAt : event.start, t0)} … ${at(event.end, t0)}]`;
  const who = `${event.worker} pid ${event.pid}`;
  switch (event.type) {
    case 'read': {
      const outcome =
        event.error !== undefined
          ? `failed: ${event.error}`
          : event.damaged !== undefined
            ? `DAMAGED ${event.damaged}`
            : event.result === null
              ? 'miss'
              : `${value(event.result, t0)}${event.computedHere ? ' computed here' : ''}`;
      const grace = event.grace === undefined ? '' : `, grace ${event.grace} s`;
      return `${span} ${who} ${event.op}(${event.key}${grace}) → ${outcome}`;
    }
    case 'invalidation': {
      const bumped =
        key !== undefined && key in event.covered
          ? `${key} → v${event.covered[key]}`
          : Object.entries(event.covered)
              .map(([k, v]) => `${k} → v${v}`)
              .join(', ');
      return `${span} ${who} ${event.target} (bumped ${bumped})${event.error ? ` failed: ${event.error}` : ''}`;
    }
    case 'write':
      return `${span} ${who} ${event.via === 'factory' ? 'factory' : 'set'} ${event.origin} ${event.key} v${event.v}${event.error ? ` failed: ${event.error}` : ''}`;
  }
}
