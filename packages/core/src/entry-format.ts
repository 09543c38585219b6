/**
 * How entries are laid out in memcached: the flags word says what the bytes are, so any reader (another
 * process, another language) can tell our entries from foreign ones, and a raw entry written without
 * dependencies is just its bytes, readable by every memcached client.
 *
 * Flags: 0 = plain text (what other clients write); ours carry 'LM' (0x4c4d) in the upper 16 bits, a kind in
 * the low byte, bit 9 when the entry starts with a freshness header (12 bytes, see freshness.ts), and bit 8 when
 * the body is preceded by dependency tokens:
 *   [freshness header?][u16 count][count × (u8 length, token key, u8 length, token), all ASCII][body]
 */
import { asBuffer } from './bytes';
import { compress, decompress, type ResolvedCompression } from './compression';
import { InvalidValueError } from './errors';
import { FRESHNESS_HEADER_LENGTH, type Freshness, readFreshness, writeFreshness } from './freshness';
import { isMemcachedKey } from './key';
import { decodeValue, encodeValue, NOT_DECODED } from './serializer';
import type { TransportItem } from './transport';

const MARK = 0x4c4d_0000;
const MARK_MASK = 0xffff_0000;
const DEPS_BIT = 0x100;
/** The body is preceded by a freshness header (read-through entries, see freshness.ts). */
const FRESH_BIT = 0x200;
/** The body is compressed: its first byte names the codec (see compression.ts). */
const COMPRESSED_BIT = 0x400;

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
  /** a read-through lease: who computes a key's value (see lease.ts) */
  LEASE: 0x14,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const PLAIN_TEXT_FLAGS = 0;

const HASHED_KEY = /^[0-9a-f]{32}$/;

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

function withHeaders(
  body: Uint8Array,
  kind: Kind,
  stamps: readonly TokenStamp[],
  freshness: Freshness | undefined,
): EncodedEntry {
  let headerLength = freshness === undefined ? 0 : FRESHNESS_HEADER_LENGTH;
  if (stamps.length > 0) {
    headerLength += 2;
    for (const [key, token] of stamps) headerLength += 2 + key.length + token.length;
  }
  const bytes = Buffer.allocUnsafe(headerLength + body.length);
  let offset = 0;
  if (freshness !== undefined) {
    writeFreshness(bytes, 0, freshness);
    offset = FRESHNESS_HEADER_LENGTH;
  }
  if (stamps.length > 0) {
    bytes.writeUInt16BE(stamps.length, offset);
    offset += 2;
    for (const part of stamps.flat()) {
      bytes[offset] = part.length;
      offset += 1 + bytes.write(part, offset + 1, 'latin1');
    }
  }
  bytes.set(body, offset);
  const flags = flagsOf(kind, stamps.length > 0) | (freshness === undefined ? 0 : FRESH_BIT);
  return { bytes, flags: flags >>> 0 };
}

/**
 * An entry of ours made stale as of `nowMs` (a soft invalidation of its key): its freshness header rewritten,
 * or put in front when it had none (a `set` entry), everything else as it was. Undefined for an item that is
 * not ours (plain bytes other clients read): it can only be deleted.
 */
export function expiredEntry(item: TransportItem, nowMs: number): EncodedEntry | undefined {
  const { flags, value } = item;
  if ((flags & MARK_MASK) >>> 0 !== MARK) return undefined;
  const stale = { freshUntil: Math.max(1, nowMs), computeMs: 0 };
  if (flags & FRESH_BIT) {
    const bytes = Buffer.from(value);
    const current = readFreshness(bytes, 0);
    if (current === undefined) return undefined;
    // Already stale since earlier (a soft invalidation before this one, or its lifetime ended): it stays stale
    // since then, so a second soft invalidation never lengthens the old value's grace.
    writeFreshness(bytes, 0, {
      freshUntil: Math.min(current.freshUntil, stale.freshUntil),
      computeMs: current.computeMs,
    });
    return { bytes, flags };
  }
  const bytes = Buffer.allocUnsafe(FRESHNESS_HEADER_LENGTH + value.length);
  writeFreshness(bytes, 0, stale);
  bytes.set(value, FRESHNESS_HEADER_LENGTH);
  return { bytes, flags: (flags | FRESH_BIT) >>> 0 };
}

/** The most dependencies one entry can carry (the stamp count is 16 bits; the item size limit comes first). */
export const MAX_DEPENDENCIES = 0xffff;

/** A stamp's bytes: two length bytes, a 32-character token key, a 36-character UUID token. */
const STAMP_LENGTH = 2 + 32 + 36;

/**
 * The stored size of a body with `dependencies` stamps (and a freshness header), known before any I/O: the
 * size limit is checked before a token or index is written.
 */
export function entrySize(bodyLength: number, dependencies: number, fresh: boolean): number {
  return (
    bodyLength +
    (dependencies === 0 ? 0 : 2 + dependencies * STAMP_LENGTH) +
    (fresh ? FRESHNESS_HEADER_LENGTH : 0)
  );
}

/** The stamps an item carries, read from its headers without decoding its body; undefined if not ours. */
export function entryStamps(item: TransportItem): readonly TokenStamp[] | undefined {
  const { flags, value } = item;
  if ((flags & MARK_MASK) >>> 0 !== MARK) return undefined;
  if (!(flags & DEPS_BIT)) return [];
  const bytes = asBuffer(value);
  const headers = decodeStamps(flags & FRESH_BIT ? bytes.subarray(FRESHNESS_HEADER_LENGTH) : bytes);
  return headers?.stamps;
}

/** A value turned into bytes, before dependency tokens (known only after a round trip) are put in front. */
export interface EncodedBody {
  body: Uint8Array;
  kind: Kind | typeof PLAIN_TEXT_FLAGS;
  /** The body is `[codec id][compressed bytes]`. */
  compressed?: boolean;
}

/**
 * The body compressed when it reaches the threshold and compressing makes it smaller. Plain text and raw bytes
 * stay as they are: they are stored for other memcached clients to read.
 */
export function compressBody(
  encoded: EncodedBody,
  compression: ResolvedCompression | undefined,
): EncodedBody {
  if (
    compression === undefined ||
    encoded.kind === PLAIN_TEXT_FLAGS ||
    encoded.compressed === true ||
    encoded.body.length < compression.threshold
  )
    return encoded;
  const body = compress(encoded.body, compression);
  return body === undefined ? encoded : { body, kind: encoded.kind, compressed: true };
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

/**
 * The stored form: plain text stays plain without tokens or freshness; with either, every body is in our own
 * format.
 */
export function encodeEntry(
  { body, kind, compressed }: EncodedBody,
  stamps: readonly TokenStamp[],
  freshness?: Freshness,
): EncodedEntry {
  const compressedBit = compressed === true ? COMPRESSED_BIT : 0;
  if (stamps.length === 0 && freshness === undefined)
    return {
      bytes: body,
      flags: kind === PLAIN_TEXT_FLAGS ? PLAIN_TEXT_FLAGS : (flagsOf(kind) | compressedBit) >>> 0,
    };
  const entry = withHeaders(body, kind === PLAIN_TEXT_FLAGS ? Kind.TEXT : kind, stamps, freshness);
  return { bytes: entry.bytes, flags: (entry.flags | compressedBit) >>> 0 };
}

export interface DecodedEntry {
  value: unknown;
  /** Shared between entries with the same header: never to be modified. */
  stamps: readonly TokenStamp[];
  /** Present on entries written by `getOrSet`. */
  freshness?: Freshness;
}

const NO_STAMPS: readonly TokenStamp[] = [];

/**
 * The last token headers read, with their stamps: entries that share dependencies share one header (every
 * entry tied to the same dependencies under the same tokens), so a query compares the header's bytes with
 * these (natively) instead of slicing and checking its key and token strings every time. The profile of a
 * query of an entry with 3 dependencies at 64 concurrent callers showed those strings as a fifth of the
 * client's CPU, and a map keyed by the header's text cost nearly as much (hashing 200 characters).
 */
interface KnownHeader {
  bytes: Buffer;
  stamps: readonly TokenStamp[];
}
const knownHeaders: (KnownHeader | undefined)[] = new Array(4);
let nextKnownHeader = 0;

function knownStamps(bytes: Buffer, end: number): readonly TokenStamp[] | undefined {
  for (const known of knownHeaders) {
    if (known?.bytes.length === end && bytes.compare(known.bytes, 0, end, 0, end) === 0) return known.stamps;
  }
  return undefined;
}

/** Reads the token header; undefined when it is not well formed (a truncated or foreign item). */
function decodeStamps(bytes: Buffer): { stamps: readonly TokenStamp[]; bodyStart: number } | undefined {
  if (bytes.length < 2) return undefined;
  const count = bytes.readUInt16BE(0);
  let end = 2;
  for (let i = 0; i < count; i++) {
    const keyEnd = end + 1 + (bytes[end] ?? bytes.length);
    end = keyEnd + 1 + (bytes[keyEnd] ?? bytes.length);
    if (end > bytes.length) return undefined;
  }
  const known = knownStamps(bytes, end);
  if (known !== undefined) return { stamps: known, bodyStart: end };
  const stamps: TokenStamp[] = [];
  let offset = 2;
  for (let i = 0; i < count; i++) {
    const keyEnd = offset + 1 + (bytes[offset] as number);
    const tokenEnd = keyEnd + 1 + (bytes[keyEnd] as number);
    const tokenKey = bytes.toString('latin1', offset + 1, keyEnd);
    // Token keys are our own MD5 hashes; anything else is a damaged or foreign entry.
    if (!HASHED_KEY.test(tokenKey)) return undefined;
    stamps.push([tokenKey, bytes.toString('latin1', keyEnd + 1, tokenEnd)]);
    offset = tokenEnd;
  }
  knownHeaders[nextKnownHeader] = { bytes: Buffer.from(bytes.subarray(0, end)), stamps };
  nextKnownHeader = (nextKnownHeader + 1) % knownHeaders.length;
  return { stamps, bodyStart: end };
}

/**
 * The keys of a reverse index, each once; anything memcached could not hold (a damaged record) is left out.
 * Read as latin1: keys are ASCII, a byte above it fails the key check either way, and it is several times
 * cheaper than UTF-8 decoding on the 330 KB index of 10,000 dependents.
 */
export function parseKeyList(bytes: Uint8Array): string[] {
  const text = asBuffer(bytes).toString('latin1');
  return [...new Set(text.split(' ').filter(isMemcachedKey))];
}

/** The value of an entry whose body starts at `start` in `bytes` (JSON, the common kind, is read in place). */
function decodeBody(kind: number, bytes: Buffer, start: number): unknown {
  switch (kind) {
    case Kind.JSON:
      return decodeValue(bytes, 'json', start);
    case Kind.V8:
      return decodeValue(bytes, 'v8', start);
    case Kind.BYTES:
      return new Uint8Array(bytes.subarray(start));
    case Kind.KEY_LIST:
      return parseKeyList(bytes.subarray(start));
    case Kind.LEASE:
      // A raw key's read-through placeholder (lease.ts): holds the place, never a value.
      return NOT_DECODED;
    default:
      return utf8.decode(bytes.subarray(start));
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
  // The headers are read at offsets in one view of the item's bytes, not sliced off one by one.
  const buffer = asBuffer(bytes);
  let start = 0;
  let stamps: readonly TokenStamp[] = NO_STAMPS;
  let freshness: Freshness | undefined;
  if (flags & FRESH_BIT) {
    freshness = readFreshness(buffer, start);
    if (freshness === undefined) return undefined;
    start += FRESHNESS_HEADER_LENGTH;
  }
  if (flags & DEPS_BIT) {
    const decoded = decodeStamps(start === 0 ? buffer : buffer.subarray(start));
    if (decoded === undefined) return undefined;
    stamps = decoded.stamps;
    start += decoded.bodyStart;
  }
  let value: unknown;
  if (flags & COMPRESSED_BIT) {
    const inflated = decompress(buffer.subarray(start));
    if (inflated === undefined) return undefined;
    value = decodeBody(kind, asBuffer(inflated), 0);
  } else {
    value = decodeBody(kind, buffer, start);
  }
  if (value === NOT_DECODED) return undefined;
  return freshness === undefined ? { value, stamps } : { value, stamps, freshness };
}
