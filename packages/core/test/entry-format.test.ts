import { describe, expect, it } from 'vitest';
import {
  decodeEntry,
  encodeBody,
  encodeEntry,
  expiredEntry,
  flagsOf,
  Kind,
  type TokenStamp,
} from '../src/entry-format';
import { InvalidValueError } from '../src/errors';

function roundTrip(value: unknown, raw = false, stamps: TokenStamp[] = []) {
  const entry = encodeEntry(encodeBody(value, raw), stamps);
  return decodeEntry({ value: entry.bytes, flags: entry.flags }, raw);
}

describe('values', () => {
  it.each([
    ['a string', 'cached value '],
    ['unicode', 'ünïcødé ✓ 🎉'],
    ['an integer', 1],
    ['a float', 3.25],
    ['-0', -0],
    ['NaN', Number.NaN],
    ['booleans', [true, false]],
    ['null', null],
    ['nested objects', { a: { b: [1, { c: 'd' }] } }],
    ['a Date', new Date(Date.UTC(2020, 1, 2))],
    [
      'a Map',
      new Map<unknown, unknown>([
        [1, 'a'],
        ['b', { c: 2 }],
      ]),
    ],
    ['a Set', new Set([1, 'two', 3n])],
    ['a BigInt', 2n ** 70n],
    ['a Uint8Array', new Uint8Array([0, 1, 255])],
    ['a Float64Array', new Float64Array([1.5, -2])],
    ['a Buffer', Buffer.from('bytes')],
  ])('%s round-trips', (_, value) => {
    expect(roundTrip(value)?.value).toEqual(value);
  });

  it('class instances come back as plain objects', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    const back = roundTrip(new Point(1, 2))?.value;
    expect(back).toEqual({ x: 1, y: 2 });
    expect(back).not.toBeInstanceOf(Point);
  });

  it('circular references round-trip', () => {
    const value: { self?: unknown; list: unknown[] } = { list: [] };
    value.self = value;
    value.list.push(value);
    const back = roundTrip(value)?.value as typeof value;
    expect(back.self).toBe(back);
    expect(back.list[0]).toBe(back);
  });

  it.each([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['undefined nested in an object', { a: { b: undefined } }],
    ['a function nested in an array', [1, [() => 1]]],
    ['a symbol in a Map', new Map([['k', Symbol('s')]])],
    ['undefined in a Set', new Set([undefined])],
    ['a Promise', Promise.resolve(1)],
  ])('%s is rejected with ERR_NOT_SERIALIZABLE', (_, value) => {
    expect(() => encodeBody(value, false)).toThrow(InvalidValueError);
    expect(() => encodeBody(value, false)).toThrow(expect.objectContaining({ code: 'ERR_NOT_SERIALIZABLE' }));
  });

  it('names where the bad part is', () => {
    expect(() => encodeBody({ a: [1, { b: undefined }] }, false)).toThrow(/value\.a\[1\]\.b/);
  });
});

describe('raw values', () => {
  it('a string without dependencies is its plain bytes, flags 0', () => {
    const entry = encodeEntry(encodeBody('value of a', true), []);
    expect(entry.flags).toBe(0);
    expect(Buffer.from(entry.bytes).toString()).toBe('value of a');
    expect(roundTrip('value of a', true)?.value).toBe('value of a');
  });

  it('bytes come back as a Uint8Array of the same bytes', () => {
    const entry = encodeEntry(encodeBody(new Uint8Array([1, 2, 3]), true), []);
    expect([...entry.bytes]).toEqual([1, 2, 3]);
    const back = roundTrip(new Uint8Array([1, 2, 3]), true)?.value;
    expect(back).toBeInstanceOf(Uint8Array);
    expect([...(back as Uint8Array)]).toEqual([1, 2, 3]);
  });

  it.each([[1], [{ a: 1 }], [null], [undefined]])('%s is rejected with ERR_INVALID_VALUE', (value) => {
    expect(() => encodeBody(value, true)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_VALUE' }));
  });

  it('foreign bytes read raw come back as text', () => {
    expect(decodeEntry({ value: Buffer.from('from php'), flags: 0 }, true)?.value).toBe('from php');
    expect(decodeEntry({ value: Buffer.from('pickled?'), flags: 1 }, true)?.value).toBe('pickled?');
  });
});

describe('dependency stamps', () => {
  const stamps: TokenStamp[] = [
    ['a'.repeat(32), 'token-1'],
    ['b'.repeat(32), 'token-2'],
  ];

  it('travel with structured and raw entries', () => {
    expect(roundTrip({ x: 1 }, false, stamps)).toEqual({ value: { x: 1 }, stamps });
    expect(roundTrip('data2', true, stamps)).toEqual({ value: 'data2', stamps });
  });

  it('make a raw string entry our own format', () => {
    const entry = encodeEntry(encodeBody('data2', true), stamps);
    expect(entry.flags).toBe(flagsOf(Kind.TEXT, true));
  });
});

describe('what is not ours reads as a miss', () => {
  it.each([
    ['plain text under a hashed key', { value: Buffer.from('x'), flags: 0 }],
    ['garbage with our JSON flag', { value: Buffer.from('{not json'), flags: flagsOf(Kind.JSON) }],
    ['garbage with our v8 flag', { value: Buffer.from('garbage'), flags: flagsOf(Kind.V8) }],
    ['a truncated stamp header', { value: Buffer.from([0, 0, 0, 99, 1]), flags: flagsOf(Kind.JSON, true) }],
    [
      'a stamp header that is not a list',
      { value: Buffer.from('\0\0\0\x02{}1'), flags: flagsOf(Kind.JSON, true) },
    ],
    ['an empty item', { value: new Uint8Array(0), flags: flagsOf(Kind.V8) }],
    ['our bookkeeping kinds', { value: Buffer.from('a b'), flags: flagsOf(Kind.KEY_LIST) }],
  ])('%s', (_, item) => {
    expect(decodeEntry(item, false)).toBeUndefined();
  });
});

describe('expiredEntry (soft invalidation of a key)', () => {
  it('makes an entry stale as of now, and a second one never moves that time later', () => {
    const entry = encodeEntry(encodeBody('page', false), [], { freshUntil: 10_000, computeMs: 5 });
    const first = expiredEntry({ value: entry.bytes, flags: entry.flags }, 1_000);
    expect(first).toBeDefined();
    const decoded = decodeEntry({ value: first?.bytes as Uint8Array, flags: first?.flags as number }, false);
    expect(decoded?.freshness).toEqual({ freshUntil: 1_000, computeMs: 5 });
    const second = expiredEntry({ value: first?.bytes as Uint8Array, flags: first?.flags as number }, 5_000);
    const again = decodeEntry({ value: second?.bytes as Uint8Array, flags: second?.flags as number }, false);
    expect(again?.value).toBe('page');
    expect(again?.freshness?.freshUntil).toBe(1_000);
    // An entry written by set() gets a header; plain bytes of other clients cannot be marked.
    const plain = encodeEntry(encodeBody({ a: 1 }, false), []);
    const marked = expiredEntry({ value: plain.bytes, flags: plain.flags }, 2_000);
    expect(
      decodeEntry({ value: marked?.bytes as Uint8Array, flags: marked?.flags as number }, false),
    ).toEqual({
      value: { a: 1 },
      stamps: [],
      freshness: { freshUntil: 2_000, computeMs: 0 },
    });
    expect(expiredEntry({ value: Buffer.from('x'), flags: 0 }, 2_000)).toBeUndefined();
  });
});
