/**
 * What Keyv hands a store: its envelope `{ value, expires }`, serialized to a string by default, or the object
 * itself when the Keyv was made with `serialize: undefined` (as cache-manager does).
 */

/**
 * The value in a form the client stores. An unserialized envelope carries `expires: undefined` when there is no
 * ttl (and `value: undefined` for an undefined value); the client refuses `undefined` anywhere in a value, and
 * Keyv reads a missing property exactly as an undefined one, so such properties are left out.
 */
export function storable(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const entries = Object.entries(value);
  if (entries.every(([, property]) => property !== undefined)) return value;
  return Object.fromEntries(entries.filter(([, property]) => property !== undefined));
}

/**
 * Whether a stored envelope is still alive at `nowMs` by its own `expires`, as Keyv's `has()` would judge it
 * without a store `has`: memcached keeps an entry up to two seconds past its ttl (see `lifetimeOf`).
 * A string that is not a JSON envelope (a custom serializer's format) counts as alive: it is there.
 */
export function isAlive(stored: unknown, nowMs: number): boolean {
  if (stored === undefined) return false;
  const expires = expiresOf(stored);
  return typeof expires !== 'number' || expires > nowMs;
}

function expiresOf(stored: unknown): unknown {
  if (isPlainObject(stored)) return stored.expires;
  // Parsing the whole value only to find `expires` is the price of `has()`; entries without one skip it.
  if (typeof stored !== 'string' || !stored.includes('"expires"')) return undefined;
  try {
    const parsed: unknown = JSON.parse(stored);
    return isPlainObject(parsed) ? parsed.expires : undefined;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
