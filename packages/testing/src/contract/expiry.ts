import { expect, it } from 'vitest';
import { bytes, type ContractContext } from './context';

/** memcached's expiry rules: 0 = never, relative seconds up to 30 days, absolute Unix times beyond. */
export function expiryContract(ctx: ContractContext): void {
  it('an item with exptime 1 is gone after 2 s; exptime 0 stays', async () => {
    const short = ctx.key();
    const forever = ctx.key();
    await ctx.transport().set(short, bytes('v'), { exptime: 1 });
    await ctx.transport().set(forever, bytes('v'), { exptime: 0 });
    expect(await ctx.transport().get(short)).toBeDefined();
    await ctx.elapse(2100);
    expect(await ctx.transport().get(short)).toBeUndefined();
    expect(await ctx.transport().get(forever)).toBeDefined();
  }, 10_000);

  it('touch gives an item a new lifetime', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('v'), { exptime: 0 });
    expect(await ctx.transport().touch(key, 1)).toBe(true);
    await ctx.elapse(2100);
    expect(await ctx.transport().get(key)).toBeUndefined();
  }, 10_000);

  it('an expired item can be added again', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('old'), { exptime: 1 });
    await ctx.elapse(2100);
    expect(await ctx.transport().add(key, bytes('new'))).toBe('stored');
  }, 10_000);

  it('exptimes over 30 days are absolute Unix times', async () => {
    const nowSeconds = Math.floor(ctx.now() / 1000);
    const future = ctx.key();
    const past = ctx.key();
    await ctx.transport().set(future, bytes('v'), { exptime: nowSeconds + 3600 });
    await ctx.transport().set(past, bytes('v'), { exptime: nowSeconds - 3600 });
    expect(await ctx.transport().get(future)).toBeDefined();
    expect(await ctx.transport().get(past)).toBeUndefined();
  });

  it('a negative exptime means already expired', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('v'), { exptime: -1 });
    expect(await ctx.transport().get(key)).toBeUndefined();
  });
}
