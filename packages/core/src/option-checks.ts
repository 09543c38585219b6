/**
 * Checks of numeric and typed options, shared by the client and every transport, so a bad option fails when
 * the client or transport is made, with one wording, instead of hanging or silently disabling caching later
 * (`timeout: NaN`, what `Number(process.env.X)` gives for an unset X, would otherwise never fire).
 */
import { describeValue } from './describe-value';
import { CacheError } from './errors';

function invalid(name: string, value: unknown, expected: string): CacheError {
  return new CacheError(
    'ERR_INVALID_OPTION',
    `\`${name}\` must be ${expected}, got ${describeValue(value)}`,
    {
      context: { option: name, value },
    },
  );
}

/** A finite number above zero (or at least zero with `allowZero`), e.g. a timeout in milliseconds. */
export function checkPositiveNumber(name: string, value: unknown, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw invalid(name, value, `a finite number ${allowZero ? '>= 0' : '> 0'}`);
  }
  return value;
}

/** A whole number of at least `min`, e.g. a size in bytes or a count. */
export function checkInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(name, value, `a whole number >= ${min}`);
  }
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(name, value, 'true or false');
  return value;
}

export function checkFunction<F>(name: string, value: F): F {
  if (typeof value !== 'function') throw invalid(name, value, 'a function');
  return value;
}

export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(name, value, 'a string');
  return value;
}

/** Calls user code (an event listener) so that its failure can never break ours; reported once per `what`. */
export function callSafely<A extends unknown[]>(
  what: string,
  callback: (...args: A) => unknown,
  ...args: A
): void {
  try {
    const result = callback(...args);
    if (isThenable(result)) result.then(undefined, (error: unknown) => warnOnce(what, error));
  } catch (error) {
    warnOnce(what, error);
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const warned = new Set<string>();

/** A process warning, once per process for each `what`: visible, never thrown, never repeated in a loop. */
export function warnOnce(what: string, error?: unknown): void {
  if (warned.has(what)) return;
  warned.add(what);
  const detail =
    error instanceof Error ? `: ${error.message}` : error === undefined ? '' : `: ${String(error)}`;
  process.emitWarning(`${what}${detail}`, { type: 'LovelyMemcachedWarning', code: 'LOVELY_MEMCACHED' });
}
