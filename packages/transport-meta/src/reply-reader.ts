/**
 * Cuts the bytes a memcached text-protocol connection receives into replies: a line, and for `VA <size> …`
 * (meta) and `VALUE <key> <flags> <size> …` (classic) the data block that follows it.
 *
 * Strict on purpose: memcached's replies always end their lines with CRLF, announce their data's exact size
 * and end it with CRLF. Anything else (a line longer than any reply memcached writes, a line without CR, a
 * size that is not a number, a data block whose announced size is not where its CRLF is) means the reader is
 * out of step with the server or the peer is not memcached: the reader says so, and the connection is
 * dropped. Nothing is ever read as a value that it is not.
 *
 * Meta reply lines are read byte by byte into fields (no string per flag): a 100-key multi-get is 100 of
 * them, and splitting each line into strings cost more than the rest of the reply's handling.
 */

/** Longer than any reply line memcached writes (a meta header with a 250-byte key and every flag fits easily). */
export const MAX_LINE_LENGTH = 8192;

export interface Reply {
  /** The line up to the first space: `VA`, `HD`, `EN`, `MN`, `VALUE`, `END`, `STORED`, `CLIENT_ERROR`… */
  code: string;
  /** The rest of a classic line, split on spaces (empty for meta replies, whose flags are read into fields). */
  tokens: string[];
  /** The data block of `VA` and `VALUE` replies. */
  value?: Buffer;
  /** Meta replies: the number of the `O` flag (the request's opaque), when present. */
  opaque?: number;
  /** Meta replies: the client flags (`f`). */
  flags?: number;
  /** Meta replies: the CAS value (`c`). */
  cas?: bigint;
  /** Meta replies: the key (`k`). */
  key?: string;
  /** Meta replies: `W` (you won), `Z` (someone else won), `X` (stale), when present. */
  won?: boolean;
  held?: boolean;
  stale?: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;

/** The meta reply codes (two letters), by their two bytes. */
const META_CODES = new Map<number, string>(
  ['VA', 'HD', 'EN', 'NF', 'NS', 'EX', 'MN'].map((code) => [
    (code.charCodeAt(0) << 8) | code.charCodeAt(1),
    code,
  ]),
);

const NO_TOKENS: string[] = [];

/** Digits from `start` to `end` as a number; NaN for anything else, or beyond 15 digits (no longer exact). */
function digits(data: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return Number.NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = (data[i] as number) - 0x30;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The flags of a meta reply line (after its code) into fields; the ones the transport does not use are
 * skipped. Returns the data size for `VA` (-1 when it is not a number), 0 for the other codes.
 */
function readMetaFlags(reply: Reply, data: Buffer, start: number, end: number): number {
  let size = 0;
  let i = start;
  if (reply.code === 'VA') {
    let stop = i;
    while (stop < end && data[stop] !== SPACE) stop++;
    size = stop - i > 10 ? Number.NaN : digits(data, i, stop);
    if (Number.isNaN(size)) return -1;
    i = stop + 1;
  }
  while (i < end) {
    let stop = i;
    while (stop < end && data[stop] !== SPACE) stop++;
    switch (data[i]) {
      case 0x4f /* O */:
        reply.opaque = digits(data, i + 1, stop);
        break;
      case 0x66 /* f */:
        reply.flags = digits(data, i + 1, stop);
        break;
      case 0x63 /* c */:
        {
          const cas = digits(data, i + 1, stop);
          reply.cas = Number.isNaN(cas) ? BigInt(data.toString('latin1', i + 1, stop)) : BigInt(cas);
          break;
        }
      case 0x6b /* k */:
        reply.key = data.toString('latin1', i + 1, stop);
        break;
      case 0x57 /* W */:
        reply.won = true;
        break;
      case 0x5a /* Z */:
        reply.held = true;
        break;
      case 0x58 /* X */:
        reply.stale = true;
        break;
    }
    i = stop + 1;
  }
  return size;
}

export class ReplyReader {
  /** Bytes of an incomplete line (small: at most MAX_LINE_LENGTH). */
  private partial: Buffer | undefined;
  /** A reply whose data block is still arriving, with the chunks of it received so far. */
  private awaiting: { reply: Reply; size: number; chunks: Buffer[]; received: number } | undefined;

  constructor(
    /** No value memcached sends is larger than its item size limit: a bigger size is not memcached's. */
    private readonly maxValueSize: number,
  ) {}

  /**
   * Feeds one chunk from the socket; returns the replies it completes, or `false` when the bytes cannot be
   * memcached's replies (the caller drops the connection).
   */
  feed(chunk: Buffer): Reply[] | false {
    const replies: Reply[] = [];
    let data = chunk;
    if (this.awaiting !== undefined) {
      const awaiting = this.awaiting;
      awaiting.chunks.push(chunk);
      awaiting.received += chunk.length;
      // A large value comes in many chunks: they are joined once it is complete, not on every chunk.
      if (awaiting.received < awaiting.size + 2) return replies;
      this.awaiting = undefined;
      const joined =
        awaiting.chunks.length === 1
          ? (awaiting.chunks[0] as Buffer)
          : Buffer.concat(awaiting.chunks, awaiting.received);
      if (!this.takeValue(awaiting.reply, joined, 0, awaiting.size)) return false;
      replies.push(awaiting.reply);
      data = joined.subarray(awaiting.size + 2);
    } else if (this.partial !== undefined) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = undefined;
    }
    let offset = 0;
    while (offset < data.length) {
      const end = data.indexOf(LF, offset);
      if (end < 0) {
        if (data.length - offset > MAX_LINE_LENGTH) return false;
        this.partial = data.subarray(offset);
        break;
      }
      // A line is at least a code and its CRLF.
      if (end - offset > MAX_LINE_LENGTH || end - offset < 2 || data[end - 1] !== CR) return false;
      const start = offset;
      const lineEnd = end - 1;
      offset = end + 1;
      const meta =
        lineEnd - start === 2 || (lineEnd - start > 2 && data[start + 2] === SPACE)
          ? META_CODES.get(((data[start] as number) << 8) | (data[start + 1] as number))
          : undefined;
      let reply: Reply;
      let size: number;
      if (meta !== undefined) {
        reply = { code: meta, tokens: NO_TOKENS };
        size = readMetaFlags(reply, data, start + 3, lineEnd);
        if (size < 0) return false;
        if (meta !== 'VA') {
          replies.push(reply);
          continue;
        }
      } else {
        const line = data.toString('latin1', start, lineEnd);
        const space = line.indexOf(' ');
        const code = space < 0 ? line : line.slice(0, space);
        reply = { code, tokens: space < 0 ? NO_TOKENS : line.slice(space + 1).split(' ') };
        if (code !== 'VALUE') {
          replies.push(reply);
          continue;
        }
        // VALUE <key> <flags> <bytes> [<cas>]
        const sizeText = reply.tokens[2] ?? '';
        size = /^\d{1,10}$/.test(sizeText) ? Number(sizeText) : -1;
        if (size < 0) return false;
      }
      if (size > this.maxValueSize) return false;
      if (data.length - offset < size + 2) {
        const rest = data.subarray(offset);
        this.awaiting = { reply, size, chunks: rest.length > 0 ? [rest] : [], received: rest.length };
        break;
      }
      if (!this.takeValue(reply, data, offset, size)) return false;
      replies.push(reply);
      offset += size + 2;
    }
    return replies;
  }

  /** Drops whatever was buffered (the connection is gone). */
  reset(): void {
    this.partial = undefined;
    this.awaiting = undefined;
  }

  /** The data block at `offset`, which must end with CRLF exactly where its size says. */
  private takeValue(reply: Reply, data: Buffer, offset: number, size: number): boolean {
    if (data[offset + size] !== CR || data[offset + size + 1] !== LF) return false;
    reply.value = data.subarray(offset, offset + size);
    return true;
  }
}
