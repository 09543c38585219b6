import { expect, it } from 'vitest';
import { bytes, type ContractContext, text } from './context';

/** cas, incr, touch. */
export function casAndCountersContract(ctx: ContractContext): void {
  it('cas stores only if the item is unchanged since it was read', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('v1'));
    const read = await ctx.transport().get(key);
    expect(typeof read?.cas).toBe('bigint');
    const cas = ctx.transport().cas;
    if (cas === undefined) throw new Error('cas missing though declared');
    expect(await cas.call(ctx.transport(), key, bytes('v2'), read?.cas as bigint, { flags: 3 })).toBe(
      'stored',
    );
    expect(await cas.call(ctx.transport(), key, bytes('v3'), read?.cas as bigint)).toBe('exists');
    const item = await ctx.transport().get(key);
    expect([text(item?.value), item?.flags]).toEqual(['v2', 3]);
    expect(await cas.call(ctx.transport(), ctx.key(), bytes('x'), 1n)).toBe('not-found');
  });

  it('append changes the cas value, so a compaction racing an append loses', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('a '));
    const read = await ctx.transport().get(key);
    await ctx.transport().append(key, bytes('b '));
    expect(await ctx.transport().cas?.(key, bytes('a '), read?.cas as bigint)).toBe('exists');
    expect(text((await ctx.transport().get(key))?.value)).toBe('a b ');
  });

  it('incr adds to a decimal counter, wrapping at 2^64', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('10'));
    expect(await ctx.transport().incr(key, 5)).toBe(15n);
    expect(await ctx.transport().incr(key, 1n)).toBe(16n);
    expect(text((await ctx.transport().get(key))?.value)).toBe('16');
    const big = ctx.key();
    await ctx.transport().set(big, bytes('18446744073709551615'));
    expect(await ctx.transport().incr(big, 1)).toBe(0n);
  });

  it('incr of a missing or non-numeric item is undefined', async () => {
    expect(await ctx.transport().incr(ctx.key(), 1)).toBeUndefined();
    const key = ctx.key();
    await ctx.transport().set(key, bytes('abc'));
    expect(await ctx.transport().incr(key, 1)).toBeUndefined();
    expect(text((await ctx.transport().get(key))?.value)).toBe('abc');
  });

  it.each([
    ['12 ', 13n, '13 '],
    [' 12', 13n, '13 '],
    ['12 abc', 13n, '13    '],
    ['+5', 6n, '6 '],
    ['007', 8n, '8  '],
    ['99', 100n, '100'],
    ['18446744073709551615', 0n, '0                   '],
    ['18446744073709551616', undefined, '18446744073709551616'],
    ['-1', undefined, '-1'],
    ['', undefined, ''],
  ])('incr parses %j like memcached and rewrites it in place', async (stored, result, after) => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes(stored));
    expect(await ctx.transport().incr(key, 1)).toBe(result);
    expect(text((await ctx.transport().get(key))?.value)).toBe(after);
  });

  it('touch of a missing key is false', async () => {
    expect(await ctx.transport().touch(ctx.key(), 10)).toBe(false);
  });
}
