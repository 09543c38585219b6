import { describe, expect, it, vi } from 'vitest';
import { MAX_LINE_LENGTH, type Reply, ReplyReader } from '../src/reply-reader';

/** Classic replies by their tokens, meta replies by the fields read from their flags. */
const simplify = (replies: Reply[]) =>
  replies.map((r) => {
    const { code, tokens, value, ...fields } = r;
    return [code, tokens.length > 0 ? tokens.join(' ') : fields, value?.toString('latin1')] as const;
  });

function feedAll(reader: ReplyReader, pieces: Buffer[]): Reply[] | false {
  const all: Reply[] = [];
  for (const piece of pieces) {
    const replies = reader.feed(piece);
    if (replies === false) return false;
    all.push(...replies);
  }
  return all;
}

const STREAM = Buffer.from(
  'VA 5 f3 c9 O1\r\nhe\r\no\r\nEN O2\r\nHD c18446744073709551615 W kmy-key t30 O3\r\nVALUE k 0 2 7\r\nab\r\nEND\r\n' +
    'STAT pid 12\r\nMN\r\nVA 0 Z X O4\r\n\r\nEXISTS\r\nOK\r\n',
);
const EXPECTED = [
  ['VA', { flags: 3, cas: 9n, opaque: 1 }, 'he\r\no'],
  ['EN', { opaque: 2 }, undefined],
  ['HD', { cas: 18446744073709551615n, won: true, key: 'my-key', opaque: 3 }, undefined],
  ['VALUE', 'k 0 2 7', 'ab'],
  ['END', {}, undefined],
  ['STAT', 'pid 12', undefined],
  ['MN', {}, undefined],
  ['VA', { held: true, stale: true, opaque: 4 }, ''],
  ['EXISTS', {}, undefined],
  ['OK', {}, undefined],
];

describe('ReplyReader', () => {
  it('reads lines and data blocks (a CRLF inside a value is data)', () => {
    expect(simplify(feedAll(new ReplyReader(1024), [STREAM]) as Reply[])).toEqual(EXPECTED);
  });

  it('gives the same replies whatever the stream is cut into', () => {
    for (let cut = 1; cut < STREAM.length; cut++) {
      const pieces = [STREAM.subarray(0, cut), STREAM.subarray(cut)];
      expect(simplify(feedAll(new ReplyReader(1024), pieces) as Reply[]), `cut at ${cut}`).toEqual(EXPECTED);
    }
    const bytes = Array.from(STREAM, (_, i) => STREAM.subarray(i, i + 1));
    expect(simplify(feedAll(new ReplyReader(1024), bytes) as Reply[])).toEqual(EXPECTED);
  });

  it('joins a large value once, not once per chunk', () => {
    const value = Buffer.alloc(1024 * 1024, 'v');
    const stream = Buffer.concat([
      Buffer.from(`VA ${value.length} O1\r\n`),
      value,
      Buffer.from('\r\nEN O2\r\n'),
    ]);
    const pieces = Array.from({ length: Math.ceil(stream.length / 16384) }, (_, i) =>
      stream.subarray(i * 16384, (i + 1) * 16384),
    );
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      const replies = feedAll(new ReplyReader(2 * 1024 * 1024), pieces) as Reply[];
      expect(replies.map((r) => r.code)).toEqual(['VA', 'EN']);
      expect(replies[0]?.value?.equals(value)).toBe(true);
      expect(concat.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      concat.mockRestore();
    }
  });

  it.each([
    ['a line without CR', 'HD O1\n'],
    ['an empty line', '\r\n'],
    ['a value shorter than announced', 'VA 10 O1\r\nabc\r\nEN O22\r\n'],
    ['a value longer than announced', 'VA 2 O1\r\nabc\r\n'],
    ['a size that is not a number', 'VA x1 O1\r\nab\r\n'],
    ['a meta reply without its size', 'VA\r\n'],
    ['a size beyond the item size limit', 'VA 2000 O1\r\n'],
    ['a line longer than any reply', `VA 1 ${'f'.repeat(MAX_LINE_LENGTH)}`],
  ])('refuses %s', (_, bytes) => {
    expect(new ReplyReader(1024).feed(Buffer.from(bytes))).toBe(false);
  });
});
