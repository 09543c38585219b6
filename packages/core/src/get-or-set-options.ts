import { CacheError } from './errors';
import type { Namespace } from './key';
import type { ReadThroughSettings } from './read-through';

export interface GetOrSetOptions {
  /** Seconds the computed value is fresh; 0 = forever. @default the client's `defaultLifetime` */
  lifetime?: number;
  /** Seconds a value stays servable (stale) after its lifetime while one caller refreshes it. @default 0 */
  grace?: number;
  /** As in `set`: the entry is removed when any of them is invalidated. @default [] */
  dependencies?: readonly unknown[];
  /** @default the client's `defaultNS` */
  ns?: Namespace;
  /** @default false */
  raw?: boolean;
  /** Milliseconds a caller waits for another caller's factory (in any process) before computing itself. @default 5000 */
  lockTimeout?: number;
  /**
   * Soft timeout, ms: with a stale value at hand, wait this long for the refreshed value, then answer with the
   * stale one (the refresh goes on). Without it, a stale value is answered at once. @default none
   */
  timeout?: number;
  /** Milliseconds after which the factory's callers reject with `ERR_FACTORY_TIMEOUT` and its signal aborts. @default none */
  hardTimeout?: number;
  /** XFetch's beta: how eagerly a hit close to its end is refreshed early, in the background; 0 = off. @default 1 */
  earlyRefresh?: number;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5000;
export const DEFAULT_EARLY_REFRESH = 1;

/** Validates `getOrSet` options before anything runs; `lifetime + grace` is what memcached keeps. */
export function resolveReadThroughSettings(
  options: GetOrSetOptions,
  defaultLifetime: number,
): ReadThroughSettings & { storeSeconds: number } {
  const lifetime = seconds('lifetime', options.lifetime ?? defaultLifetime);
  const grace = seconds('grace', options.grace ?? 0);
  return {
    lifetimeMs: lifetime * 1000,
    // A value that never goes stale needs no grace; otherwise memcached keeps it for both.
    storeSeconds: lifetime === 0 ? 0 : lifetime + grace,
    lockTimeout: milliseconds('lockTimeout', options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT_MS),
    timeout: options.timeout === undefined ? undefined : milliseconds('timeout', options.timeout, true),
    hardTimeout:
      options.hardTimeout === undefined ? undefined : milliseconds('hardTimeout', options.hardTimeout),
    earlyRefresh: nonNegative('earlyRefresh', options.earlyRefresh ?? DEFAULT_EARLY_REFRESH),
  };
}

function seconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheError(
      'ERR_INVALID_LIFETIME',
      `invalid \`${name}\` ${String(value)}: use seconds (a finite number >= 0)`,
      { context: { [name]: value } },
    );
  }
  return value;
}

function milliseconds(name: string, value: unknown, zeroAllowed = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed)) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `invalid \`${name}\` ${String(value)}: use milliseconds (a finite number ${zeroAllowed ? '>= 0' : '> 0'})`,
      { context: { [name]: value } },
    );
  }
  return value;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `invalid \`${name}\` ${String(value)}: use a finite number >= 0`,
      {
        context: { [name]: value },
      },
    );
  }
  return value;
}
