/**
 * `getOrSetMany`: many keys read through at once, the data source called once for the keys that are missing
 * (DataLoader's shape, MediaWiki's `getMultiWithUnionSetCallback`, Rails' `fetch_multi`).
 *
 * Every key goes through `getOrSet`'s own path (its read joins one batched read per server, its lease, its
 * flight, its conditional write, the guarantee), with a per-key factory that only says "I need this key". The
 * keys whose factories start in the same turn are gathered into one call of the user's factory, whose array
 * answer is handed back key by key. So across clients and processes each missing key is still leased, and
 * computed, once; a key whose lease another process holds waits for that process's value, and one whose wait
 * ends with its lease joins a later batch.
 */
import { describeValue } from './describe-value';
import { CacheError } from './errors';
import type { FactoryContext, FactoryOptions } from './factory-context';
import type { Factory } from './factory-runner';
import type { GetOrSetOptions } from './get-or-set-options';
import type { Key } from './key';

/** `getOrSet`'s options, with dependencies for all keys or a function of the key. */
export type GetOrSetManyOptions<K extends Key = Key> = Omit<GetOrSetOptions, 'dependencies'> & {
  dependencies?: readonly unknown[] | ((key: K) => readonly unknown[]);
};

/** The factory of `getOrSetMany`: the missing keys, and an array aligned with them (`undefined`: not found). */
export type ManyFactory<K extends Key, T> = (
  missing: K[],
  context: ManyFactoryContext<T>,
) => ReadonlyArray<T | undefined> | PromiseLike<ReadonlyArray<T | undefined>>;

/** The context of a batch: the stale values aligned with the missing keys, and the per-call decisions. */
export interface ManyFactoryContext<T> {
  /** The stale value of each missing key being refreshed, aligned with `missing`. */
  stale: Array<T | undefined>;
  /** Aborted when the callers stop waiting (`hardTimeout`). */
  signal: AbortSignal;
  /** The lifetime and grace of every value of this batch. */
  setOptions(options: FactoryOptions): void;
  /** Returns the values to the callers, caches none of them. */
  skip(): void;
  /** Ties every value of this batch to more dependencies; their tokens are read now. */
  dependOn(...dependencies: unknown[]): Promise<void>;
}

/** What `readThroughMany` needs of the client: where a key lives, and `getOrSet`'s path with a decision hook. */
export interface ManyReader {
  /** Throws (`InvalidKeyError`) for a bad key: every key is checked before any I/O. */
  memcachedKey(key: Key): string;
  readThrough<T>(
    key: Key,
    factory: Factory<T>,
    options: GetOrSetOptions,
    decided: (computes: boolean) => void,
  ): Promise<T>;
}

/** `getOrSetMany`'s work; throws (synchronously) on bad input, before any I/O. */
export function readThroughMany<K extends Key, T>(
  keys: readonly K[],
  factory: ManyFactory<K, T>,
  options: GetOrSetManyOptions<K>,
  reader: ManyReader,
): Promise<Array<T | undefined>> {
  if (!Array.isArray(keys)) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `getOrSetMany needs an array of keys, got ${describeValue(keys)}`,
    );
  }
  if (typeof factory !== 'function') {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `getOrSetMany needs a factory function (missing keys → values), got ${describeValue(factory)}`,
    );
  }
  const { dependencies, ...rest } = options;
  if (dependencies !== undefined && typeof dependencies !== 'function' && !Array.isArray(dependencies)) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      '`dependencies` of getOrSetMany must be an array of keys, or a function of the key returning one',
      { context: { dependencies } },
    );
  }
  // Every key checked before any I/O: bad input stores nothing. A key asked twice is read through once.
  const distinct = new Map<string, K>();
  for (const key of keys) distinct.set(reader.memcachedKey(key), key);
  const batch = new FactoryBatch<K, T>(factory, distinct.size);
  const answers = new Map<string, Promise<T | undefined>>();
  for (const [memcachedKey, key] of distinct) {
    let decidedOnce = false;
    const decided = (computes: boolean) => {
      batch.decided(computes, !decidedOnce);
      decidedOnce = true;
    };
    const keyOptions =
      dependencies === undefined
        ? rest
        : { ...rest, dependencies: typeof dependencies === 'function' ? dependencies(key) : dependencies };
    const answer = reader.readThrough<T | undefined>(
      key,
      (context) => batch.load(key, context),
      keyOptions,
      decided,
    );
    // A key answered without a flight of its own (a hit, a flight it joined) decided too.
    const settled = () => {
      if (!decidedOnce) decided(false);
    };
    answer.then(settled, settled);
    answers.set(memcachedKey, answer);
  }
  return Promise.all(keys.map((key) => answers.get(reader.memcachedKey(key)) as Promise<T | undefined>));
}

interface Pending<K, T> {
  key: K;
  context: FactoryContext<T | undefined>;
  resolve(value: T | undefined): void;
  reject(error: unknown): void;
}

/**
 * Gathers the per-key factories into one call of the user's factory. A key's flight first learns whether it
 * computes (its lease won) or waits (another process computes it) or is answered (a hit); the batch is called
 * once every key has decided and every key that computes has asked (its factory started, after the flight took
 * its write condition and tokens): one call for all the keys leased together. A key that comes to compute
 * later (its holder's lease ran out) goes in a later batch.
 */
export class FactoryBatch<K extends Key, T> {
  private pending: Array<Pending<K, T>> = [];
  /** Keys that have not yet decided (computes, waits, or answered). */
  private undecided: number;
  /** Keys of the coming batch that decided to compute but have not asked yet. */
  private computing = 0;
  private scheduled = false;

  constructor(
    private readonly factory: ManyFactory<K, T>,
    keys: number,
  ) {
    this.undecided = keys;
  }

  /** A key's flight decided (`getOrSet`'s `decided` hook), or its call settled without deciding. */
  decided(computes: boolean, first: boolean): void {
    if (first) this.undecided--;
    if (computes) this.computing++;
    this.maybeFlush();
  }

  /** The per-key factory `getOrSet` runs for `key`. */
  load(key: K, context: FactoryContext<T | undefined>): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key, context, resolve, reject });
      this.computing = Math.max(0, this.computing - 1);
      this.maybeFlush();
    });
  }

  private maybeFlush(): void {
    if (this.scheduled || this.pending.length === 0 || this.undecided > 0 || this.computing > 0) return;
    this.scheduled = true;
    // One turn later, so that keys asking in this turn join (a resolved promise's `then`, not
    // `queueMicrotask`: test runners fake the latter).
    Promise.resolve().then(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const context = batchContext(batch);
    let answer: Promise<ReadonlyArray<T | undefined>>;
    try {
      answer = Promise.resolve(
        this.factory(
          batch.map(({ key }) => key),
          context,
        ),
      );
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (values) => {
        if (!Array.isArray(values) || values.length !== batch.length) {
          const error = new CacheError(
            'ERR_INVALID_VALUE',
            `the getOrSetMany factory returned ${Array.isArray(values) ? `an array of ${values.length}` : describe(values)} for ${batch.length} missing keys: return one value per missing key, in their order (undefined where not found)`,
            {
              context: { missing: batch.length, returned: Array.isArray(values) ? values.length : undefined },
            },
          );
          for (const { reject } of batch) reject(error);
          return;
        }
        batch.forEach(({ context: keyContext, resolve }, i) => {
          const value = values[i] as T | undefined;
          // Not found: returned as undefined, never cached.
          if (value === undefined) keyContext.skip();
          resolve(value);
        });
      },
      (error: unknown) => {
        for (const { reject } of batch) reject(error);
      },
    );
  }
}

/** One context for the batch, whose decisions apply to each key's own context. */
function batchContext<K, T>(batch: ReadonlyArray<Pending<K, T>>): ManyFactoryContext<T> {
  const signals = batch.map(({ context }) => context.signal);
  return {
    stale: batch.map(({ context }) => context.stale),
    signal: signals.length === 1 ? (signals[0] as AbortSignal) : AbortSignal.any(signals),
    setOptions: (options) => {
      for (const { context } of batch) context.setOptions(options);
    },
    skip: () => {
      for (const { context } of batch) context.skip();
    },
    dependOn: async (...dependencies) => {
      await Promise.all(batch.map(({ context }) => context.dependOn(...dependencies)));
    },
  };
}

function describe(value: unknown): string {
  return value === null ? 'null' : `a ${typeof value}`;
}
