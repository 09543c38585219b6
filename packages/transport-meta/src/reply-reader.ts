/**
 * Cuts the bytes a memcached text-protocol connection receives into replies: a line, and for `VA <size> …`
 * (meta) and `VALUE <key> <flags> <size> …` (classic) the data block that follows it.
 *
 * Strict on purpose: memcached's replies always end their lines with CRLF, announce their data's exact size
 * and end it with CRLF. Anything else (a line longer than any reply memcached writes, a line without CR, a
 * size that is not a number, a data block whose announced size is not where its CRLF is) means the reader is
 * out of step with the server or the peer is not memcached: the reader says so, and the connection is
 * dropped. Nothing is ever read as a value that it is not.
 */

/** Longer than any reply line memcached writes (a meta header with a 250-byte key and every flag fits easily). */
export const MAX_LINE_LENGTH = 8192;

export interface Reply {
  /** The line up to the first space: `VA`, `HD`, `EN`, `MN`, `VALUE`, `END`, `STORED`, `CLIENT_ERROR`… */
  code: string;
  /** The rest of the line, split on spaces (empty when the line is only its code). */
  tokens: string[];
  /** The data block of `VA` and `VALUE` replies. */
  value?: Buffer;
}

const CR = 0x0d;
const LF = 0x0a;

/** Where a line's data block size is, for the two reply kinds that carry one. */
function announcedSize(code: string, tokens: readonly string[]): string | undefined {
  if (code === 'VA') return tokens[0];
  if (code === 'VALUE') return tokens[2];
  return undefined;
}

export class ReplyReader {
  constructor(
    /** No value memcached sends is larger than its item size limit: a bigger size is not memcached's. */
    private readonly maxValueSize: number,
  ) {}

  /** Bytes of an incomplete line (small: at most MAX_LINE_LENGTH). */
  private partial: Buffer | undefined;
  /** A reply whose data block is still arriving, with the chunks of it received so far. */
  private awaiting: { reply: Reply; size: number; chunks: Buffer[]; received: number } | undefined;

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
      const line = data.toString('latin1', offset, end - 1);
      offset = end + 1;
      const space = line.indexOf(' ');
      const code = space < 0 ? line : line.slice(0, space);
      const tokens = space < 0 ? [] : line.slice(space + 1).split(' ');
      const reply: Reply = { code, tokens };
      const sizeText = announcedSize(code, tokens);
      if (sizeText === undefined) {
        replies.push(reply);
        continue;
      }
      if (!/^\d{1,10}$/.test(sizeText)) return false;
      const size = Number(sizeText);
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
