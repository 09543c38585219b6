/**
 * The `l1` client option: `{ maxBytes, maxStale, bus? }`, checked when the client is made.
 */
import { describeValue } from '../describe-value';
import { type Duration, durationHint, durationIn } from '../duration';
import { CacheError } from '../errors';
import { isThenable } from '../option-checks';
import { checkOptionNames, checkOptionsObject } from '../option-names';
import type { L1Bus } from './bus';

/** A number of bytes, or a string with a unit: `'512kb'`, `'64mb'`, `'1gb'` (powers of 1024). */
export type Size = number | `${number}${'b' | 'kb' | 'mb' | 'gb' | 'KB' | 'MB' | 'GB'}`;

export interface L1Options {
  /** Bound on the bytes of the values this process keeps: a number of bytes, or `'64mb'`, `'512kb'`. */
  maxBytes: Size;
  /**
   * How long after a copy was read from (or written to) memcached it may still be served from L1: milliseconds
   * (a number), or a string with a unit (`'250ms'`, `'2s'`). Bounds staleness from other processes' writes and
   * invalidations, whether or not a bus delivers them.
   */
  maxStale: Duration;
  /** Carries this process's invalidations to the others (and theirs here) within milliseconds. */
  bus?: L1Bus | undefined;
}

export interface ResolvedL1Options {
  maxBytes: number;
  maxStaleMs: number;
  bus: L1Bus | undefined;
}

const L1_OPTION_NAMES = { maxBytes: true, maxStale: true, bus: true } as const satisfies Record<
  keyof L1Options,
  true
>;

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const SIZE = /^(\d+(?:\.\d+)?|\.\d+)\s*(b|kb|mb|gb)$/i;

/** Bytes of a size option, or NaN when it is not one. */
export function parseSize(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const match = SIZE.exec(value.trim());
  if (match === null) return Number.NaN;
  return Math.floor(Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number));
}

export function resolveL1Options(value: unknown): ResolvedL1Options | undefined {
  if (value === undefined) return undefined;
  checkOptionsObject('the `l1` option', value);
  const options = value as Partial<L1Options>;
  checkOptionNames('the `l1` option', options, L1_OPTION_NAMES);
  const maxBytes = parseSize(options.maxBytes);
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `\`l1.maxBytes\` must be a number of bytes > 0 or a size string ('512kb', '64mb'), got ${describeValue(options.maxBytes)}`,
      { context: { option: 'l1.maxBytes', value: options.maxBytes } },
    );
  }
  const maxStaleMs = durationIn('ms', options.maxStale);
  if (!Number.isFinite(maxStaleMs) || maxStaleMs < 0) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `\`l1.maxStale\` must be ${durationHint('ms', options.maxStale)}, got ${describeValue(options.maxStale)}`,
      { context: { option: 'l1.maxStale', value: options.maxStale } },
    );
  }
  const bus = options.bus;
  if (
    bus !== undefined &&
    (typeof bus !== 'object' ||
      bus === null ||
      isThenable(bus) ||
      typeof bus.publish !== 'function' ||
      typeof bus.subscribe !== 'function' ||
      typeof bus.close !== 'function')
  ) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `\`l1.bus\` must be a bus ({ publish, subscribe, close }), e.g. redisBus({ url }) from @lovely-memcached/bus-redis, got ${describeValue(bus)}`,
      { context: { option: 'l1.bus' } },
    );
  }
  return { maxBytes, maxStaleMs, bus };
}
