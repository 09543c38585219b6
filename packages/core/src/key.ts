/**
 * Keys: validation, the stable encoding that hashed keys are built from, and raw-key checks.
 *
 * A `Key` is hashed from a canonical JSON text of `[namespace, key]`: object properties sorted, so
 * `{a: 1, b: 2}` and `{b: 2, a: 1}` are the same key; JSON keeps `1` and `'1'` apart; and the same text parses
 * back to the original key, which is how key tracking returns keys as they were given.
 */
import * as crypto from 'node:crypto';
import { article, describeValue } from './describe-value';
import { InvalidKeyError } from './errors';
import { MAX_KEY_LENGTH } from './transport';

export type KeyPrimitive = string | number | boolean;
/** What can be a cache key or a dependency: primitives, and arrays / plain objects of them. */
export type Key = KeyPrimitive | readonly Key[] | { readonly [property: string]: Key };
/** `null` is "no namespace". */
export type Namespace = string | null;

const describe = describeValue;

function invalidKey(key: unknown, why: string): InvalidKeyError {
  return new InvalidKeyError(
    `invalid key ${describe(key)}: ${why}; keys are strings, finite numbers, booleans, or arrays / plain objects of those`,
    { context: { key } },
  );
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function encodeInto(value: unknown, root: unknown, parents: object[]): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw invalidKey(root, `${value} is not a finite number`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) throw invalidKey(root, 'null cannot be (part of) a key');
      if (parents.includes(value)) throw invalidKey(root, 'it contains itself');
      parents.push(value);
      let text: string;
      if (Array.isArray(value)) {
        text = `[${value.map((item) => encodeInto(item, root, parents)).join(',')}]`;
      } else if (isPlainObject(value)) {
        const record = value as Record<string, unknown>;
        const fields = Object.keys(record)
          .sort()
          .map((name) => `${JSON.stringify(name)}:${encodeInto(record[name], root, parents)}`);
        text = `{${fields.join(',')}}`;
      } else {
        throw invalidKey(
          root,
          `${article(value.constructor?.name ?? 'class')} instance cannot be (part of) a key`,
        );
      }
      parents.pop();
      return text;
    }
    default:
      throw invalidKey(
        root,
        value === undefined
          ? 'undefined cannot be (part of) a key'
          : `${article(typeof value)} cannot be (part of) a key`,
      );
  }
}

/** The canonical text of a key; throws `InvalidKeyError` for anything that is not a `Key`. */
export function encodeKey(key: unknown): string {
  // Most keys are strings: no list of parents to guard against cycles.
  if (typeof key === 'string') return JSON.stringify(key);
  return encodeInto(key, key, []);
}

/** The inverse of `encodeKey`. */
export function decodeKey(text: string): Key {
  return JSON.parse(text) as Key;
}

export function assertNamespace(ns: unknown): asserts ns is Namespace {
  if (ns !== null && typeof ns !== 'string') {
    throw new InvalidKeyError(
      `invalid namespace ${describe(ns)}: a namespace is a string, or null for none`,
      {
        context: { ns },
      },
    );
  }
}

// crypto.hash (Node >= 20.12) is the one-shot digest, about twice as fast as createHash for short inputs.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function md5Hex(text: string): string {
  return oneShot ? oneShot('md5', text, 'hex') : crypto.createHash('md5').update(text).digest('hex');
}

/**
 * Hashes of keys used lately: the MD5 was the largest share of a lone `query`'s own CPU in its profile (about
 * 2.5 % of a loopback round trip), and the keys a cache is asked for repeat. Kept per namespace, by the key's
 * text, so a hit builds no string. A key never seen again costs one map lookup more; the maps start over when
 * they hold MAX_RECENT_HASHES keys, and keep short keys only, so they stay under a few MB.
 */
const recentHashes = new Map<Namespace, Map<string, string>>();
let recentHashCount = 0;
const MAX_RECENT_HASHES = 10_000;
const MAX_REMEMBERED_KEY_LENGTH = 250;

/** The memcached key of a hashed (non-raw) key: 32 lowercase hex characters. */
export function hashedKey(encodedKey: string, ns: Namespace): string {
  if (encodedKey.length > MAX_REMEMBERED_KEY_LENGTH) return md5Hex(hashedText(encodedKey, ns));
  let inNamespace = recentHashes.get(ns);
  let hash = inNamespace?.get(encodedKey);
  if (hash !== undefined) return hash;
  hash = md5Hex(hashedText(encodedKey, ns));
  if (recentHashCount >= MAX_RECENT_HASHES) {
    recentHashes.clear();
    recentHashCount = 0;
    inNamespace = undefined;
  }
  if (inNamespace === undefined) {
    inNamespace = new Map();
    recentHashes.set(ns, inNamespace);
  }
  inNamespace.set(encodedKey, hash);
  recentHashCount++;
  return hash;
}

/** What is hashed: the namespace and the key, as one JSON array. */
function hashedText(encodedKey: string, ns: Namespace): string {
  return `[${ns === null ? 'null' : JSON.stringify(ns)},${encodedKey}]`;
}

// memcached's text protocol splits on spaces and ends lines on CR/LF; the binary protocol takes any bytes, but
// keys must work for every client, so printable ASCII only (0x21-0x7e).
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** Whether memcached (and every client) can hold this key: 1-250 bytes of printable ASCII. */
export function isMemcachedKey(key: string): boolean {
  return key.length > 0 && key.length <= MAX_KEY_LENGTH && PRINTABLE_ASCII.test(key);
}

/** For transports: refuses a key memcached cannot hold before it reaches the wire (or the in-memory store). */
export function assertMemcachedKey(key: string): void {
  if (typeof key !== 'string' || !isMemcachedKey(key)) {
    throw new InvalidKeyError(
      `invalid memcached key ${describe(key)}: 1-${MAX_KEY_LENGTH} bytes of printable ASCII, no spaces or control characters`,
      { context: { key } },
    );
  }
}

/** The memcached key of a raw key: the namespace prepended, checked against memcached's key rules. */
export function rawKey(key: unknown, ns: unknown): string {
  if (typeof key !== 'string') {
    throw new InvalidKeyError(`invalid raw key ${describe(key)}: raw keys must be strings`, {
      context: { key },
    });
  }
  if (ns !== null && typeof ns !== 'string') {
    throw new InvalidKeyError(
      `invalid raw key namespace ${describe(ns)} for key ${describe(key)}: with \`raw: true\` the namespace must be a string`,
      { context: { key, ns } },
    );
  }
  const full = (ns ?? '') + key;
  if (!isMemcachedKey(full)) {
    throw new InvalidKeyError(
      `invalid raw key ${describe(full)}: a raw key (namespace included) must be 1-${MAX_KEY_LENGTH} bytes of printable ASCII without spaces or control characters`,
      { context: { key: full } },
    );
  }
  return full;
}
