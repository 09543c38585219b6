import { describe, expect, it } from 'vitest';
import { CacheError } from '../src/errors';
import { toExptime } from '../src/lifetime';

const NOW = Date.UTC(2026, 10, 24) as number;

describe('lifetimes', () => {
  it('0 means no expiry', () => expect(toExptime(0, () => NOW)).toBe(0));
  it('whole seconds pass through', () => expect(toExptime(3600, () => NOW)).toBe(3600));
  it('fractions round up, never to 0', () => {
    expect(toExptime(0.2, () => NOW)).toBe(1);
    expect(toExptime(1.5, () => NOW)).toBe(2);
  });
  it('30 days stays relative', () => expect(toExptime(2_592_000, () => NOW)).toBe(2_592_000));
  it('over 30 days becomes an absolute Unix time', () => {
    expect(toExptime(2_592_001, () => NOW)).toBe(NOW / 1000 + 2_592_001);
  });
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 32])(
    'rejects %s with ERR_INVALID_LIFETIME',
    (lifetime) => {
      expect(() => toExptime(lifetime, () => NOW)).toThrow(CacheError);
      expect(() => toExptime(lifetime, () => NOW)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_LIFETIME' }),
      );
    },
  );
});
