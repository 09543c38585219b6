/**
 * The history checker itself (test/support/history/check.ts), on hand-made histories: what it must call
 * stale, and the near misses it must not (a read that began before the invalidation resolved, a value computed
 * from the new version, a failed invalidation, a set that raced another client's invalidation, a read-through
 * call within its grace of a soft invalidation).
 */
import { describe, expect, it } from 'vitest';
import { checkHistory } from './support/history/check';
import type {
  CachedValue,
  HistoryEvent,
  InvalidationEvent,
  ReadEvent,
  WriteEvent,
} from './support/history/history';

const a = { worker: 'p0c0w0', client: 'p0c0', pid: 1 };
const b = { worker: 'p1c0w0', client: 'p1c0', pid: 2 };

function factoryWrite(origin: string, v: number, issuedAt: number, end: number, by = a): WriteEvent {
  return { type: 'write', via: 'factory', ...by, origin, key: 'item:0', ns: 'x', v, issuedAt, end };
}

function setWrite(origin: string, v: number, issuedAt: number, end: number, by = a): WriteEvent {
  return { ...factoryWrite(origin, v, issuedAt, end, by), via: 'set' };
}

function invalidation(start: number, end: number, after: number, extra: Partial<InvalidationEvent> = {}) {
  return {
    type: 'invalidation',
    ...b,
    kind: 'key',
    target: 'invalidate(item:0)',
    covered: { 'item:0': after },
    start,
    end,
    ...extra,
  } satisfies InvalidationEvent;
}

function read(
  start: number,
  write: WriteEvent | null,
  op: ReadEvent['op'] = 'query',
  grace?: number,
): ReadEvent {
  const result: CachedValue | null =
    write === null ? null : { key: write.key, v: write.v, issuedAt: write.issuedAt, origin: write.origin };
  const event: ReadEvent = { type: 'read', op, ...a, key: 'item:0', ns: 'x', start, end: start + 5, result };
  return grace === undefined ? event : { ...event, grace };
}

/** Seconds of grace in the history's microseconds. */
const S = 1_000_000;

describe('the history checker', () => {
  it('calls stale a value computed from the old version, read after the invalidation resolved', () => {
    const old = factoryWrite('f1', 3, 100, 130);
    const history: HistoryEvent[] = [old, invalidation(110, 120, 4), read(140, old, 'getOrSet')];
    const result = checkHistory(history);
    expect(result.stale).toHaveLength(1);
    expect(result.stale[0]?.origin).toBe(old);
    expect(result.readsAfterInvalidation).toBe(1);
  });

  it('does not judge a read against an invalidation that had not resolved when it began', () => {
    const old = factoryWrite('f1', 3, 100, 105);
    expect(checkHistory([old, invalidation(110, 120, 4), read(119, old)]).stale).toEqual([]);
  });

  it('accepts a value computed from the version the invalidation bumped to, or issued after it began', () => {
    const fresh = factoryWrite('f2', 4, 100, 130);
    const later = factoryWrite('f3', 3, 111, 130);
    const history = [fresh, later, invalidation(110, 120, 4), read(140, fresh), read(141, later)];
    expect(checkHistory(history).stale).toEqual([]);
  });

  it('holds no read against an invalidation that failed', () => {
    const old = factoryWrite('f1', 3, 100, 130);
    const failed = invalidation(110, 120, 4, { error: 'ERR_TIMEOUT' });
    const result = checkHistory([old, failed, read(140, old)]);
    expect(result.stale).toEqual([]);
    expect(result.failedInvalidations).toBe(1);
  });

  it('calls stale a settled set read after a later invalidation', () => {
    const set = setWrite('s1', 3, 100, 105);
    expect(checkHistory([set, invalidation(110, 120, 4), read(140, set)]).stale).toHaveLength(1);
  });

  it('sets apart a set still in flight when another client invalidated, stale only with strictSets', () => {
    const racing = setWrite('s1', 3, 100, 125);
    const history = [racing, invalidation(110, 120, 4), read(140, racing)];
    const lenient = checkHistory(history);
    expect(lenient.stale).toEqual([]);
    expect(lenient.concurrentSets).toHaveLength(1);
    expect(checkHistory(history, { strictSets: true }).stale).toHaveLength(1);
    // The same client issued the set, then the invalidation: its own order binds it.
    const own = invalidation(110, 120, 4, a);
    expect(checkHistory([racing, own, read(140, racing)]).stale).toHaveLength(1);
  });

  it('counts misses, failed reads and values of another key apart', () => {
    const other: ReadEvent = {
      ...read(140, factoryWrite('f1', 3, 100, 130)),
      result: { key: 'item:1', v: 0, issuedAt: 0, origin: 'f9' },
    };
    const failed: ReadEvent = { ...read(150, null), error: 'ERR_CLIENT_CLOSED' };
    const result = checkHistory([read(130, null), failed, other]);
    expect([result.misses, result.failedReads, result.damaged.length, result.stale.length]).toEqual([
      1, 1, 1, 0,
    ]);
  });

  describe("soft invalidations: stale allowed only through getOrSet(Many) within the call's grace", () => {
    const old = factoryWrite('f1', 3, 100, 105);
    const soft = invalidation(110, 120, 4, { soft: true });

    it('a getOrSet or getOrSetMany with grace that started within it after the invalidation resolved may serve the old value', () => {
      for (const op of ['getOrSet', 'getOrSetMany'] as const) {
        const result = checkHistory([old, soft, read(140, old, op, 2), read(120 + 2 * S - 1, old, op, 2)]);
        expect(result.stale, op).toEqual([]);
        expect(result.servedWithinGrace, op).toHaveLength(2);
        expect(result.softInvalidations).toBe(1);
      }
    });

    it('a query never may', () => {
      const result = checkHistory([old, soft, read(140, old, 'query')]);
      expect(result.stale).toHaveLength(1);
      expect(result.servedWithinGrace).toEqual([]);
    });

    it('nor a getOrSet without grace (a soft invalidation is then a hard one)', () => {
      expect(checkHistory([old, soft, read(140, old, 'getOrSet', 0)]).stale).toHaveLength(1);
      expect(checkHistory([old, soft, read(140, old, 'getOrSetMany')]).stale).toHaveLength(1);
    });

    it('nor a getOrSet that started its grace or more after the invalidation resolved', () => {
      expect(checkHistory([old, soft, read(120 + 2 * S, old, 'getOrSet', 2)]).stale).toHaveLength(1);
      expect(checkHistory([old, soft, read(120 + 3 * S, old, 'getOrSetMany', 2)]).stale).toHaveLength(1);
    });

    it('a hard invalidation gets no grace; nor does a value that another, hard, invalidation forbids', () => {
      expect(
        checkHistory([old, invalidation(110, 120, 4), read(140, old, 'getOrSet', 2)]).stale,
      ).toHaveLength(1);
      const hardThenSoft = [
        old,
        invalidation(106, 108, 4),
        invalidation(110, 120, 5, { soft: true }),
        read(140, old, 'getOrSet', 2),
      ];
      const result = checkHistory(hardThenSoft);
      expect(result.stale).toHaveLength(1);
      expect(result.stale[0]?.invalidation.soft).toBeUndefined();
      expect(result.servedWithinGrace).toEqual([]);
    });

    it('a value computed after the soft invalidation began is no concern of it', () => {
      const refreshed = factoryWrite('f2', 3, 111, 130);
      expect(checkHistory([refreshed, soft, read(3 * S, refreshed, 'query')]).stale).toEqual([]);
    });
  });
});
