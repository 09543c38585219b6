/**
 * Durations: every duration option takes a number in its documented unit (lifetimes and `grace`: seconds, as
 * memcached counts them; timeouts and intervals: milliseconds) or a string with a unit, `'250ms'`, `'30s'`,
 * `'5m'`, `'1h'`, `'1d'`, so a value copied from a peer that counts otherwise says which unit it means.
 */

export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';
/** A number with a unit: `'250ms'`, `'30s'`, `'1.5h'`. */
export type DurationString = `${number}${DurationUnit}`;
/** A number in the option's documented unit, or a string with a unit. */
export type Duration = number | DurationString;

const UNIT_MS: Readonly<Record<DurationUnit, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)$/;

/** The milliseconds of a duration string (`'30s'` → 30000), or NaN when it is not one. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (match === null) return Number.NaN;
  return Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
}

/**
 * A duration option in `unit`: a number is taken as it is (already in `unit`), a string is converted from its
 * own unit. NaN for anything else, which every range check then refuses (the caller names the option).
 */
export function durationIn(unit: 'ms' | 's', value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const ms = parseDuration(value);
  return unit === 'ms' ? ms : ms / 1000;
}

/**
 * What a refused duration option should look like, for its message: `range` is what its number must be
 * (`'>= 0'`, `'> 0 and <= 2147483647'`).
 */
export function durationHint(unit: 'ms' | 's', value: unknown, range = '>= 0'): string {
  const number = unit === 'ms' ? 'milliseconds' : 'seconds';
  const hint = `${number} (a finite number ${range}) or a string with a unit ('250ms', '30s', '5m', '1h', '1d')`;
  // A number read from the environment still needs its unit: `'60'` is not taken for 60 of anything.
  const bare = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*$/.exec(value)?.[1] : undefined;
  return bare === undefined ? hint : `${hint}: for ${bare} ${number}, write '${bare}${unit}' or Number(...)`;
}
