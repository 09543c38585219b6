/**
 * Values to bytes and back.
 *
 * JSON-shaped values (strings, finite numbers, booleans, null, arrays and plain objects without shared or
 * circular references) are written as JSON: v8's structured serializer costs ~3.5 µs a call in Node 20, JSON
 * a tenth of that, and most cached values are JSON-shaped. Everything else (Date, Map, Set, BigInt, typed
 * arrays, -0, NaN, circular references, class instances) goes through v8's structured serialization, which
 * round-trips them and, unlike pickle-style formats, can never run code when read.
 *
 * An object with a `toJSON` method (a Luxon DateTime, a Decimal, an ORM document) is stored as what `toJSON`
 * returns, as `JSON.stringify` does: v8 would store the instance's private fields, which read back as a plain
 * object that is neither the instance nor its JSON. Dates, Buffers and typed arrays keep their own encoding.
 */
import { deserialize, serialize } from 'node:v8';
import { asBuffer } from './bytes';
import { article, describeValue } from './describe-value';
import { InvalidValueError } from './errors';

export type ValueEncoding = 'json' | 'v8';

function notSerializable(path: string, what: string): InvalidValueError {
  return new InvalidValueError(
    'ERR_NOT_SERIALIZABLE',
    `cannot cache ${what} at ${path}: values may hold strings, numbers, booleans, null, arrays, plain objects, Date, Map, Set, BigInt and typed arrays, but not undefined, functions or symbols`,
    { context: { path } },
  );
}

/** What one walk of a value found besides its JSON-ness: objects `toJSON` stands for, and what it returned. */
interface Walk {
  seen: Set<object>;
  replaced: Map<object, unknown> | undefined;
}

/**
 * Walks the value, throwing for what cannot be stored (undefined, functions, symbols, at any depth), and
 * tells whether plain JSON represents it exactly. `name` is what `JSON.stringify` would pass to `toJSON`; like
 * `JSON.stringify`, what `toJSON` returned is not asked again (`replacing`), only what it holds.
 */
function inspect(value: unknown, path: string, walk: Walk, name: string, replacing = false): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'bigint':
      return false;
    case 'undefined':
      return fail(path, 'undefined');
    case 'function':
      return fail(path, 'a function');
    case 'symbol':
      return fail(path, 'a symbol');
  }
  if (value === null) return true;
  const object = value as object;
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer || object instanceof Date) return false;
  if (!replacing && typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    const replacement = replace(object, path, walk, name);
    if (replacement !== object) return inspect(replacement, path, walk, name, true);
  }
  const { seen } = walk;
  if (seen.has(object)) return false; // shared or circular: v8 keeps the identities, JSON would not
  seen.add(object);
  if (Array.isArray(object)) {
    let json = true;
    for (let i = 0; i < object.length; i++)
      json = inspect(object[i], `${path}[${i}]`, walk, String(i)) && json;
    return json;
  }
  if (object instanceof Map) {
    for (const [k, v] of object) {
      inspect(k, `${path}.keys()`, walk, '');
      inspect(v, `${path}.get(${String(k)})`, walk, '');
    }
    return false;
  }
  if (object instanceof Set) {
    for (const v of object) inspect(v, `${path}.values()`, walk, '');
    return false;
  }
  const proto = Object.getPrototypeOf(object);
  let json = proto === Object.prototype || proto === null;
  const record = object as Record<string, unknown>;
  for (const key of Object.keys(record)) json = inspect(record[key], `${path}.${key}`, walk, key) && json;
  return json;
}

/** What `toJSON` returns for `object`, asked once per object (a shared instance gives one answer). */
function replace(object: object, path: string, walk: Walk, name: string): unknown {
  walk.replaced ??= new Map();
  if (walk.replaced.has(object)) return walk.replaced.get(object);
  let replacement: unknown;
  try {
    replacement = (object as { toJSON(key: string): unknown }).toJSON(name);
  } catch (cause) {
    throw new InvalidValueError(
      'ERR_NOT_SERIALIZABLE',
      `cannot cache ${article(object.constructor?.name ?? 'object')} at ${path}: its toJSON() threw (${cause instanceof Error ? cause.message : describeValue(cause)})`,
      { cause, context: { path } },
    );
  }
  walk.replaced.set(object, replacement);
  return replacement;
}

/**
 * The value with every object `toJSON` stood for replaced by what it returned, rebuilt where something inside
 * changed hands (arrays, Maps, Sets, objects); shared and circular references stay shared.
 */
function substitute(
  value: unknown,
  replaced: Map<object, unknown>,
  copies: Map<object, unknown>,
  replacing = false,
): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (!replacing && replaced.has(value)) {
    const replacement = replaced.get(value);
    if (replacement !== value) return substitute(replacement, replaced, copies, true);
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) return value;
  if (copies.has(value)) return copies.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    copies.set(value, copy);
    for (const item of value) copy.push(substitute(item, replaced, copies));
    return copy;
  }
  if (value instanceof Map) {
    const copy = new Map<unknown, unknown>();
    copies.set(value, copy);
    for (const [k, v] of value) copy.set(substitute(k, replaced, copies), substitute(v, replaced, copies));
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set<unknown>();
    copies.set(value, copy);
    for (const item of value) copy.add(substitute(item, replaced, copies));
    return copy;
  }
  // v8 keeps these as they are; any other object it stores as a plain one, as this copy does.
  if (
    value instanceof RegExp ||
    value instanceof Error ||
    value instanceof Boolean ||
    value instanceof Number ||
    value instanceof String
  ) {
    return value;
  }
  const copy: Record<string, unknown> = {};
  copies.set(value, copy);
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) copy[key] = substitute(record[key], replaced, copies);
  return copy;
}

function fail(path: string, what: string): never {
  throw notSerializable(path, what);
}

export interface EncodedValue {
  bytes: Uint8Array;
  encoding: ValueEncoding;
}

export function encodeValue(value: unknown): EncodedValue {
  if (typeof value === 'string') return { bytes: Buffer.from(JSON.stringify(value)), encoding: 'json' };
  const walk: Walk = { seen: new Set(), replaced: undefined };
  const json = inspect(value, 'value', walk, '');
  // `toJSON` was asked once, during the walk: what is stored is its answers, not a second call's.
  const stored = walk.replaced === undefined ? value : substitute(value, walk.replaced, new Map());
  if (json) return { bytes: Buffer.from(JSON.stringify(stored)), encoding: 'json' };
  try {
    return { bytes: serialize(stored), encoding: 'v8' };
  } catch (cause) {
    // v8 refuses what it cannot clone (a Promise, a WeakMap, a class with private state...).
    const reason = (cause as Error).message.replace(/\.$/, '');
    throw new InvalidValueError(
      'ERR_NOT_SERIALIZABLE',
      `cannot cache this value: ${reason}. Store plain data (objects, arrays, Map, Set, Date, typed arrays) instead`,
      { cause },
    );
  }
}

const NOT_DECODED: unique symbol = Symbol('not decoded');
export type Decoded = unknown | typeof NOT_DECODED;
export { NOT_DECODED };

/** Decodes bytes in the given encoding; bytes that do not decode give `NOT_DECODED`, never an exception. */
export function decodeValue(bytes: Uint8Array, encoding: ValueEncoding, start = 0): Decoded {
  try {
    if (encoding === 'v8') return deserialize(start > 0 ? bytes.subarray(start) : bytes);
    return JSON.parse(asBuffer(bytes).toString('utf8', start));
  } catch {
    return NOT_DECODED;
  }
}
