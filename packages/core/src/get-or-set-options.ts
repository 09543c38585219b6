import { describeValue } from './describe-value';
import { type Duration, durationHint, durationIn } from './duration';
import { CacheError } from './errors';
import type { Namespace } from './key';
import { callOptionNames, checkCallOptionNames, checkOptionsObject } from './option-names';

export interface GetOrSetOptions {
  /**
   * How long the computed value is fresh: seconds (a number) or a string with a unit (`'30s'`, `'5m'`, `'1h'`,
   * `'1d'`); 0 = forever.
   * @default the client's `defaultLifetime`
   */
  lifetime?: Duration;
  /**
   * How long a value stays servable (stale) after its lifetime while one caller refreshes it: seconds, or a
   * string with a unit.
   * @default 0
   */
  grace?: Duration;
  /** As in `set`: the entry is removed when any of them is invalidated. @default [] */
  dependencies?: readonly unknown[];
  /** @default the client's `defaultNS` */
  ns?: Namespace;
  /** @default false */
  raw?: boolean;
  /**
   * How long a caller waits for another caller's factory (in any process) before computing itself:
   * milliseconds, or a string with a unit (`'500ms'`, `'5s'`).
   * @default 5000
   */
  lockTimeout?: Duration;
  /**
   * Soft timeout (milliseconds, or a string with a unit): with a stale value at hand, wait this long for the
   * refreshed value, then answer with the stale one (the refresh goes on). Without it, a stale value is
   * answered at once.
   * @default none
   */
  timeout?: Duration;
  /**
   * After this long (milliseconds, or a string with a unit) the factory's callers reject with
   * `ERR_FACTORY_TIMEOUT` and its signal aborts.
   * @default none
   */
  hardTimeout?: Duration;
  /** XFetch's beta: how eagerly a hit close to its end is refreshed early, in the background; 0 = off. @default 1 */
  earlyRefresh?: number;
  /**
   * After a refresh of a value within grace failed, no caller anywhere runs this key's factory again for this
   * long (seconds, or a string with a unit); callers get the stale value meanwhile. @default 0 (retry at once)
   */
  graceBackoff?: Duration;
  /**
   * Spreads expiry: the lifetime stored is drawn uniformly from `[lifetime, lifetime × (1 + jitter)]`, so
   * entries written together do not expire together (0–1). @default the client's `jitter`, else 0
   */
  jitter?: number;
}

/** Resolved, validated `getOrSet` settings (see `GetOrSetOptions` for their meaning). */
export interface ReadThroughSettings {
  lifetimeMs: number;
  /** Seconds a value stays servable after its lifetime (also what a soft invalidation may serve). */
  graceSeconds: number;
  lockTimeout: number;
  timeout: number | undefined;
  hardTimeout: number | undefined;
  earlyRefresh: number;
  /** Seconds no one refreshes a key again after a failed refresh within grace; 0: no backoff. */
  graceBackoffSeconds: number;
  jitter: number;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5000;
export const DEFAULT_EARLY_REFRESH = 1;

/** Every name `GetOrSetOptions` has (a name missing here fails the typecheck). */
export const GET_OR_SET_OPTION_NAMES = callOptionNames({
  lifetime: true,
  grace: true,
  dependencies: true,
  ns: true,
  raw: true,
  lockTimeout: true,
  timeout: true,
  hardTimeout: true,
  earlyRefresh: true,
  graceBackoff: true,
  jitter: true,
} as const satisfies Record<keyof GetOrSetOptions, true>);

/** Validates `getOrSet` options before anything runs; `lifetime + grace` is what memcached keeps. */
export function resolveReadThroughSettings(
  options: GetOrSetOptions,
  defaultLifetime: number,
  defaultJitter = 0,
): ReadThroughSettings & { storeSeconds: number } {
  checkOptionsObject('the options of getOrSet()', options);
  checkCallOptionNames('the options of getOrSet()', options, GET_OR_SET_OPTION_NAMES);
  const lifetime = seconds('lifetime', options.lifetime ?? defaultLifetime);
  const grace = seconds('grace', options.grace ?? 0);
  return {
    lifetimeMs: lifetime * 1000,
    graceSeconds: lifetime === 0 ? 0 : grace,
    graceBackoffSeconds: backoffSeconds(options.graceBackoff ?? 0),
    jitter: options.jitter === undefined ? defaultJitter : jitterOption(options.jitter),
    // A value that never goes stale needs no grace; otherwise memcached keeps it for both.
    storeSeconds: lifetime === 0 ? 0 : lifetime + grace,
    lockTimeout: milliseconds('lockTimeout', options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT_MS),
    timeout: options.timeout === undefined ? undefined : milliseconds('timeout', options.timeout, true),
    hardTimeout:
      options.hardTimeout === undefined ? undefined : milliseconds('hardTimeout', options.hardTimeout),
    earlyRefresh: nonNegative('earlyRefresh', options.earlyRefresh ?? DEFAULT_EARLY_REFRESH),
  };
}

/** `graceBackoff`: seconds, or a duration string; ERR_INVALID_OPTION otherwise (it is no lifetime). */
function backoffSeconds(value: unknown): number {
  const backoff = durationIn('s', value);
  if (!Number.isFinite(backoff) || backoff < 0) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `invalid \`graceBackoff\` ${describeValue(value)}: use ${durationHint('s', value)}`,
      { context: { option: 'graceBackoff', value } },
    );
  }
  return backoff;
}

/** `jitter`: a share of the lifetime, 0–1; ERR_INVALID_OPTION otherwise. */
export function jitterOption(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `invalid \`jitter\` ${describeValue(value)}: use a share of the lifetime from 0 to 1 (0.1 = up to 10 % longer)`,
      { context: { option: 'jitter', value } },
    );
  }
  return value;
}

/** A lifetime drawn from `[lifetime, lifetime × (1 + jitter)]` (FusionCache's jitter): spreads expiry. */
export function jittered(lifetimeSeconds: number, jitter: number): number {
  return jitter === 0 || lifetimeSeconds === 0
    ? lifetimeSeconds
    : lifetimeSeconds * (1 + jitter * Math.random());
}

/** A lifetime or grace: seconds, or a duration string; ERR_INVALID_LIFETIME naming the option otherwise. */
export function seconds(name: string, value: unknown): number {
  const seconds = durationIn('s', value);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new CacheError(
      'ERR_INVALID_LIFETIME',
      `invalid \`${name}\` ${describeValue(value)}: use ${durationHint('s', value)}`,
      { context: { option: name, value, [name]: value } },
    );
  }
  return seconds;
}

/** A wait: milliseconds, or a duration string; ERR_INVALID_OPTION naming the option otherwise. */
export function milliseconds(name: string, value: unknown, zeroAllowed = false): number {
  const ms = durationIn('ms', value);
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !zeroAllowed)) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `invalid \`${name}\` ${describeValue(value)}: use ${durationHint('ms', value, zeroAllowed ? '>= 0' : '> 0')}`,
      { context: { option: name, value, [name]: value } },
    );
  }
  return ms;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `invalid \`${name}\` ${describeValue(value)}: use a finite number >= 0`,
      { context: { option: name, value, [name]: value } },
    );
  }
  return value;
}
