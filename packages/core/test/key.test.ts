import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from '../src/errors';
import { decodeKey, encodeKey, hashedKey, rawKey } from '../src/key';

describe('hashed keys', () => {
  const hash = (key: unknown, ns: string | null = null) => hashedKey(encodeKey(key), ns);

  it('are 32 lowercase hex characters', () => {
    expect(hash('cache_key')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keep 1 and "1" and true apart', () => {
    expect(new Set([hash(1), hash('1'), hash(true), hash('true')]).size).toBe(4);
  });

  it('ignore object property order', () => {
    expect(hash({ a: 1, b: [2, { c: 3, d: 4 }] })).toBe(hash({ b: [2, { d: 4, c: 3 }], a: 1 }));
  });

  it('depend on the namespace, and null differs from "null"', () => {
    expect(new Set([hash('k'), hash('k', '1'), hash('k', '2'), hash('k', 'null')]).size).toBe(4);
  });

  it('are the same in every process: MD5 of the canonical text', () => {
    // md5('[null,"cache_key"]'), computed independently of this code.
    expect(hash('cache_key')).toBe('36f267c23c6ad6d47774aa4b0b4a6d85');
  });

  it('round-trip through the canonical encoding', () => {
    for (const key of [1, '1', true, [1, 'a', [false]], { z: 1, a: { b: 'c' } }, -3.5, '']) {
      expect(decodeKey(encodeKey(key))).toEqual(key);
    }
  });

  it.each([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['undefined', undefined],
    ['null', null],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a class instance', new Date(0)],
    ['a nested function', { a: [() => 1] }],
    ['a bigint', 1n],
  ])('reject %s with ERR_INVALID_KEY', (_, key) => {
    expect(() => encodeKey(key)).toThrow(InvalidKeyError);
    try {
      encodeKey(key);
    } catch (error) {
      expect((error as InvalidKeyError).code).toBe('ERR_INVALID_KEY');
    }
  });

  it('reject a key that contains itself', () => {
    const key: unknown[] = [];
    key.push(key);
    expect(() => encodeKey(key)).toThrow(/contains itself/);
  });
});

describe('raw keys', () => {
  it('prepend the namespace', () => {
    expect(rawKey('a', 'NS_')).toBe('NS_a');
    expect(rawKey('a', null)).toBe('a');
  });

  it.each([
    ['empty', '', null],
    ['with a space', 'a b', null],
    ['with CR/LF', 'a\r\nb', null],
    ['with a control character', 'a\u0001', null],
    ['non-ASCII', 'schlüssel', null],
    ['251 bytes', 'x'.repeat(251), null],
    ['251 bytes with the namespace', 'x'.repeat(248), 'NS_'],
    ['a number', 1, null],
    ['a non-string namespace', 'a', 1],
  ])('reject a key %s, showing it', (_, key, ns) => {
    expect(() => rawKey(key, ns)).toThrow(InvalidKeyError);
    try {
      rawKey(key, ns);
    } catch (error) {
      expect((error as InvalidKeyError).code).toBe('ERR_INVALID_KEY');
      if (typeof key === 'string' && key.length > 0 && key.length < 40) {
        expect((error as Error).message).toContain(JSON.stringify(key).slice(1, -1));
      }
    }
  });

  it('accept 250 bytes of printable ASCII', () => {
    expect(rawKey('~'.repeat(247), 'NS_')).toHaveLength(250);
  });
});
