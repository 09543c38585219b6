/**
 * How entries are laid out in memcached: the flags word says what the bytes are, so any reader (another
 * process, another language) can tell our entries from foreign ones, and a raw entry written without
 * dependencies is just its bytes, readable by every memcached client.
 *
 * Flags: 0 = plain text (what other clients write); ours carry 'LM' (0x4c4d) in the upper 16 bits, a kind in
 * the low byte, and bit 8 when the body is preceded by dependency tokens:
 *   [u32 BE length of header][header: JSON array tokenKey, token, tokenKey, token...][body]
 */
import { InvalidValueError } from './errors';
import { decodeValue, encodeValue, NOT_DECODED } from './serializer';
import type { TransportItem } from './transport';

const MARK = 0x4c4d_0000;
const MARK_MASK = 0xffff_0000;
const DEPS_BIT = 0x100;

export const Kind = {
  /** a JSON-shaped value */
  JSON: 1,
  /** a value in v8 structured serialization */
  V8: 2,
  /** raw bytes, read back as a Uint8Array */
  BYTES: 3,
  /** a raw string stored with dependencies (without them it is plain text, flags 0) */
  TEXT: 4,
  /** a dependency's version token */
  TOKEN: 0x10,
  /** a space-separated list of memcached keys: a dependency's reverse index */
  KEY_LIST: 0x11,
  /** newline-separated JSON lines: one client's key-tracking record */
  TRACKING: 0x12,
  /** newline-separated uids: the registry of key-tracking clients */
  REGISTRY: 0x13,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const PLAIN_TEXT_FLAGS = 0;

export function flagsOf(kind: Kind, withDependencies = false): number {
  return (MARK | kind | (withDependencies ? DEPS_BIT : 0)) >>> 0;
}

/** A dependency token as written into an entry: where the token lives and what it was. */
export type TokenStamp = readonly [tokenKey: string, token: string];

export interface EncodedEntry {
  bytes: Uint8Array;
  flags: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function withTokens(body: Uint8Array, kind: Kind, stamps: readonly TokenStamp[]): EncodedEntry {
  const header = Buffer.from(JSON.stringify(stamps.flat()));
  const bytes = Buffer.allocUnsafe(4 + header.length + body.length);
  bytes.writeUInt32BE(header.length, 0);
  header.copy(bytes, 4);
  bytes.set(body, 4 + header.length);
  return { bytes, flags: flagsOf(kind, true) };
}

/** A value turned into bytes, before dependency tokens (known only after a round trip) are put in front. */
export interface EncodedBody {
  body: Uint8Array;
  kind: Kind | typeof PLAIN_TEXT_FLAGS;
}

/** Encodes a value, throwing `InvalidValueError` for what cannot be stored; no I/O happens before this. */
export function encodeBody(value: unknown, raw: boolean): EncodedBody {
  if (!raw) {
    const { bytes, encoding } = encodeValue(value);
    return { body: bytes, kind: encoding === 'json' ? Kind.JSON : Kind.V8 };
  }
  if (typeof value === 'string') return { body: Buffer.from(value), kind: PLAIN_TEXT_FLAGS };
  if (value instanceof Uint8Array) return { body: value, kind: Kind.BYTES };
  throw new InvalidValueError(
    'ERR_INVALID_VALUE',
    `raw values must be strings or bytes (Uint8Array / Buffer), got ${value === null ? 'null' : typeof value}: drop \`raw: true\` to cache structured values`,
    { context: { value: typeof value } },
  );
}

/** The stored form: plain text stays plain without tokens; with tokens every body is in our own format. */
export function encodeEntry({ body, kind }: EncodedBody, stamps: readonly TokenStamp[]): EncodedEntry {
  if (stamps.length === 0)
    return { bytes: body, flags: kind === PLAIN_TEXT_FLAGS ? PLAIN_TEXT_FLAGS : flagsOf(kind) };
  return withTokens(body, kind === PLAIN_TEXT_FLAGS ? Kind.TEXT : kind, stamps);
}

export interface DecodedEntry {
  value: unknown;
  stamps: TokenStamp[];
}

function decodeStamps(header: Uint8Array): TokenStamp[] | undefined {
  let flat: unknown;
  try {
    flat = JSON.parse(utf8.decode(header));
  } catch {
    return undefined;
  }
  if (!Array.isArray(flat) || flat.length % 2 !== 0) return undefined;
  const stamps: TokenStamp[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const [key, token] = [flat[i], flat[i + 1]];
    if (typeof key !== 'string' || typeof token !== 'string') return undefined;
    stamps.push([key, token]);
  }
  return stamps;
}

function decodeBody(kind: number, body: Uint8Array): unknown {
  switch (kind) {
    case Kind.JSON:
      return decodeValue(body, 'json');
    case Kind.V8:
      return decodeValue(body, 'v8');
    case Kind.BYTES:
      return new Uint8Array(body);
    case Kind.KEY_LIST:
      return [...new Set(utf8.decode(body).split(' ').filter(Boolean))];
    default:
      return utf8.decode(body);
  }
}

/**
 * Reads an item. Non-raw reads accept only our structured kinds: anything else under a hashed key (garbage,
 * another client's format, a truncated write) is a miss. Raw reads decode by the marker: our records come back
 * decoded, foreign bytes as text.
 */
export function decodeEntry(item: TransportItem, raw: boolean): DecodedEntry | undefined {
  const { flags, value: bytes } = item;
  if ((flags & MARK_MASK) >>> 0 !== MARK) return raw ? { value: utf8.decode(bytes), stamps: [] } : undefined;
  const kind = flags & 0xff;
  if (!raw && kind !== Kind.JSON && kind !== Kind.V8) return undefined;
  let body = bytes;
  let stamps: TokenStamp[] = [];
  if (flags & DEPS_BIT) {
    if (bytes.length < 4) return undefined;
    const headerLength = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32BE(0);
    if (4 + headerLength > bytes.length) return undefined;
    const decoded = decodeStamps(bytes.subarray(4, 4 + headerLength));
    if (decoded === undefined) return undefined;
    stamps = decoded;
    body = bytes.subarray(4 + headerLength);
  }
  const value = decodeBody(kind, body);
  return value === NOT_DECODED ? undefined : { value, stamps };
}
