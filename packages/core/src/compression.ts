/**
 * Compression of stored values, transport-agnostic: a value whose encoded form reaches the threshold is stored
 * compressed when that makes it smaller, marked in the flags word with the codec's id in the first body byte,
 * so every client reads it whatever its own setting. Decompression is bounded: an entry that is corrupt or
 * would inflate beyond the bound reads as a miss, never a crash or an out-of-memory.
 *
 * Built-in codecs come from `node:zlib` (zstd where the Node version has it); a custom codec has an id of 16 or
 * more and must be configured on every client that reads its entries (others read them as misses).
 */
import zlib from 'node:zlib';
import { CacheError } from './errors';
import { checkInteger } from './option-checks';

export interface Codec {
  /** Stored in the entry: 1–15 are the built-in codecs, 16–255 are free for custom ones. */
  readonly id: number;
  compress(bytes: Uint8Array): Uint8Array;
  /** Must throw (or return more than `maxLength` bytes) rather than inflate beyond `maxLength`. */
  decompress(bytes: Uint8Array, maxLength: number): Uint8Array;
}

export type CodecName = 'deflate' | 'brotli' | 'zstd';

export interface CompressionOptions {
  /** Values whose encoded form has at least this many bytes are compressed. @default 16384 */
  threshold?: number;
  /** @default 'deflate' */
  codec?: CodecName | Codec;
}

/** What an entry may inflate to when read: beyond it, the entry reads as a miss. */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;
export const DEFAULT_COMPRESSION_THRESHOLD = 16 * 1024;

const zstd = zlib as unknown as {
  zstdCompressSync?: (bytes: Uint8Array) => Buffer;
  zstdDecompressSync?: (bytes: Uint8Array, options: { maxOutputLength: number }) => Buffer;
};

const builtIn: Record<CodecName, Codec | undefined> = {
  // Level 1: on the benchmark's JSON and HTML it keeps 94–99% of level 6's savings at a third of the time.
  deflate: {
    id: 1,
    compress: (bytes) => zlib.deflateRawSync(bytes, { level: 1 }),
    decompress: (bytes, maxLength) => zlib.inflateRawSync(bytes, { maxOutputLength: maxLength }),
  },
  // Quality 4: brotli's default (11) is two to three orders of magnitude slower for a few percent.
  brotli: {
    id: 2,
    compress: (bytes) =>
      zlib.brotliCompressSync(bytes, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
    decompress: (bytes, maxLength) => zlib.brotliDecompressSync(bytes, { maxOutputLength: maxLength }),
  },
  zstd:
    zstd.zstdCompressSync === undefined || zstd.zstdDecompressSync === undefined
      ? undefined
      : {
          id: 3,
          compress: (bytes) => (zstd.zstdCompressSync as NonNullable<typeof zstd.zstdCompressSync>)(bytes),
          decompress: (bytes, maxLength) =>
            (zstd.zstdDecompressSync as NonNullable<typeof zstd.zstdDecompressSync>)(bytes, {
              maxOutputLength: maxLength,
            }),
        },
};

/** Codecs readers know by id: the built-in ones, and custom ones once a client was configured with them. */
const readable = new Map<number, Codec>(
  Object.values(builtIn)
    .filter((codec): codec is Codec => codec !== undefined)
    .map((codec) => [codec.id, codec]),
);

export interface ResolvedCompression {
  threshold: number;
  codec: Codec;
}

/** Checks the `compression` option; `undefined` when compression is off. */
export function resolveCompression(
  option: CompressionOptions | false | undefined,
): ResolvedCompression | undefined {
  if (option === false) return undefined;
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      '`compression` must be an object ({ threshold?, codec? }) or false',
      {
        context: { option: 'compression', value: option },
      },
    );
  }
  const threshold = checkInteger(
    'compression.threshold',
    option?.threshold ?? DEFAULT_COMPRESSION_THRESHOLD,
    0,
  );
  const codec = codecOf(option?.codec ?? 'deflate');
  return { threshold, codec };
}

function codecOf(codec: CodecName | Codec): Codec {
  if (typeof codec === 'string') {
    const known = (builtIn as Record<string, Codec | undefined>)[codec];
    if (known !== undefined) return known;
    throw new CacheError(
      'ERR_INVALID_OPTION',
      codec === 'zstd'
        ? `\`compression.codec\` 'zstd' needs a Node version whose node:zlib has zstd (22.15 or later); this is ${process.version}: use 'deflate' or 'brotli'`
        : `unknown \`compression.codec\` ${JSON.stringify(codec)}: use 'deflate', 'brotli', 'zstd' or a codec object`,
      { context: { option: 'compression.codec', value: codec } },
    );
  }
  const valid =
    typeof codec === 'object' &&
    codec !== null &&
    Number.isInteger(codec.id) &&
    codec.id >= 16 &&
    codec.id <= 255 &&
    typeof codec.compress === 'function' &&
    typeof codec.decompress === 'function';
  if (!valid) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      '`compression.codec` must be a codec name or { id: 16..255, compress(bytes), decompress(bytes, maxLength) }',
      { context: { option: 'compression.codec' } },
    );
  }
  const existing = readable.get(codec.id);
  if (existing === undefined) readable.set(codec.id, codec);
  else if (!sameCodec(existing, codec)) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `another codec already uses id ${codec.id} in this process, with other compress/decompress functions: entries are read by their codec id alone, so pick another id (or give every client the same codec)`,
      { context: { option: 'compression.codec', value: codec.id } },
    );
  }
  return codec;
}

/**
 * Whether a codec given for an id already in use is the same codec. Entries are decoded by their codec id alone,
 * through one process-wide table (a reader need not be the client that wrote), so two codecs that decode
 * differently under one id cannot both be served: that is refused. But a codec is often made again for each
 * client (`compression: { codec: gzip() }`): a new object, even new closures, doing the same thing. So it is the
 * same codec when its compress and decompress are the same functions or have the same source text. (Source text
 * cannot see what a closure captured: two codecs of one factory that differ only in a captured setting count as
 * the same, and the first one given keeps decoding. Functions whose text says nothing, native or bound, must be
 * the very same function.) The first codec registered for an id stays the one that decodes it.
 */
function sameCodec(a: Codec, b: Codec): boolean {
  return a === b || (sameFunction(a.compress, b.compress) && sameFunction(a.decompress, b.decompress));
}

function sameFunction(a: Codec['compress'] | Codec['decompress'], b: typeof a): boolean {
  if (a === b) return true;
  const source = Function.prototype.toString.call(a);
  return !source.includes('[native code]') && source === Function.prototype.toString.call(b);
}

/** `[id][compressed bytes]`, or undefined when compressing does not make it smaller. */
export function compress(body: Uint8Array, { codec }: ResolvedCompression): Uint8Array | undefined {
  const compressed = codec.compress(body);
  if (compressed.length + 1 >= body.length) return undefined;
  const out = Buffer.allocUnsafe(compressed.length + 1);
  out[0] = codec.id;
  out.set(compressed, 1);
  return out;
}

/** The original bytes, or undefined for an unknown codec, corrupt data or an inflation past the bound. */
export function decompress(bytes: Uint8Array): Uint8Array | undefined {
  const codec = bytes[0] === undefined ? undefined : readable.get(bytes[0]);
  if (codec === undefined) return undefined;
  try {
    const out = codec.decompress(bytes.subarray(1), MAX_DECOMPRESSED_BYTES);
    return out.length > MAX_DECOMPRESSED_BYTES ? undefined : out;
  } catch {
    return undefined;
  }
}
