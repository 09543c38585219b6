import { CacheError } from '@lovely-memcached/core';
import { expect, it } from 'vitest';
import { bytes, type ContractContext } from './context';

/**
 * memcached's argument ranges, the same in every transport: a value memcached's protocol cannot carry is
 * refused with `ERR_INVALID_OPTION` for that call alone, never a RangeError from an encoder, never a request
 * left half-registered on a connection (keys: see keys.ts).
 */
export function argumentsContract(ctx: ContractContext): void {
  it('refuses out-of-range arguments with a CacheError for that call alone', async () => {
    const t = ctx.transport();
    const key = ctx.key();
    await t.set(key, bytes('1'));
    const refused: Array<[string, () => Promise<unknown> | undefined]> = [
      ['delta', () => t.incr(key, 1.5)],
      ['delta', () => t.incr(key, -1)],
      ['delta', () => t.incr(key, 2n ** 64n)],
      ['exptime', () => t.touch(key, 2 ** 33)],
      ['exptime', () => t.touch(key, 0.5)],
      ['flags', () => t.set(key, bytes('v'), { flags: -1 })],
      ['flags', () => t.set(key, bytes('v'), { flags: 2 ** 32 })],
      ['exptime', () => t.add(ctx.key(), bytes('v'), { exptime: Number.NaN })],
      ['cas', () => t.cas?.(key, bytes('v'), -1n)],
      ['cas', () => t.cas?.(key, bytes('v'), 2n ** 64n)],
    ];
    for (const [name, call] of refused) {
      const outcome = call();
      if (outcome === undefined) continue; // an optional call the transport does not offer
      const error = await outcome.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `${name} out of range`).toBeInstanceOf(CacheError);
      expect((error as CacheError).code).toBe('ERR_INVALID_OPTION');
      expect((error as Error).message).toContain(`\`${name}\``);
    }
    // Nothing was stored, touched or counted by the refused calls.
    expect(await t.incr(key, 2)).toBe(3n);
  });

  it('takes the edges of each range', async () => {
    const t = ctx.transport();
    const key = ctx.key();
    expect(await t.set(key, bytes('0'), { flags: 0xffff_ffff, exptime: 0 })).toBe('stored');
    expect(await t.incr(key, 2n ** 64n - 1n)).toBe(2n ** 64n - 1n);
    expect(await t.touch(key, 0)).toBe(true);
  });
}
