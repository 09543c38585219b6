/**
 * The records of a history. Every process appends to its own list and the lists are merged afterwards; all
 * times are microseconds of the shared monotonic clock (clock.ts), so they compare across processes.
 */
import type { UpdateKind } from './keyspace';

/**
 * What is cached: a value says which version of the entity it was computed from (`v`), when its computation
 * started or its `set` was issued (`issuedAt`), and which write made it (`origin`, the id of a WriteEvent).
 */
export interface CachedValue {
  key: string;
  v: number;
  issuedAt: number;
  origin: string;
}

/** Who did something: the worker loop, the client it runs on and the process. */
export interface Actor {
  worker: string;
  client: string;
  pid: number;
}

/** How a value was read: one `getOrSetMany` call records a read of each of its keys, all with its span. */
export type ReadOp = 'query' | 'getOrSet' | 'getOrSetMany';

/**
 * A `query`, a `getOrSet` call, or one key of a `getOrSetMany` call, from just before the call to just after it
 * settled.
 */
export interface ReadEvent extends Actor {
  type: 'read';
  op: ReadOp;
  key: string;
  ns: string;
  start: number;
  end: number;
  /** The value returned; `null` for a miss. */
  result: CachedValue | null;
  /** The call rejected (not checked: it served nothing). */
  error?: string;
  /** getOrSet(Many) only: the value was computed by this call's own factory (so not a hit). */
  computedHere?: boolean;
  /**
   * getOrSet(Many) only: the call's `grace`, seconds. A value from before a soft invalidation is the call's to
   * serve while the call started within this long after the invalidation resolved (check.ts).
   */
  grace?: number;
  /** Something that is not a value of this history came back (damage), shown as text. */
  damaged?: string;
}

/**
 * An update: the oracle's versions were bumped first (`covered`: each covered key's version after the bump),
 * then `start` was taken and the invalidation called; `end` is taken once it resolved.
 */
export interface InvalidationEvent extends Actor {
  type: 'invalidation';
  kind: UpdateKind;
  /** What was invalidated, as the call was made. */
  target: string;
  covered: Record<string, number>;
  /** `soft: true`: the entries turned stale, servable by getOrSet within its grace (check.ts). */
  soft?: boolean;
  start: number;
  end: number;
  /** The call rejected: it may or may not have taken effect, so no read is judged against it. */
  error?: string;
}

/** Where a value came from: a factory run (any getOrSet, foreground or background) or a `set`. */
export interface WriteEvent extends Actor {
  type: 'write';
  via: 'factory' | 'set';
  origin: string;
  key: string;
  ns: string;
  v: number;
  issuedAt: number;
  /** The factory returned, or the `set` settled. */
  end: number;
  error?: string;
}

export type HistoryEvent = ReadEvent | InvalidationEvent | WriteEvent;

/** Values travel through memcached and IPC: anything else read back is damage, reported as such. */
export function isCachedValue(value: unknown): value is CachedValue {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.key === 'string' &&
    typeof v.v === 'number' &&
    typeof v.issuedAt === 'number' &&
    typeof v.origin === 'string'
  );
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
