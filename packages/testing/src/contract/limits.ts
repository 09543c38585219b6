import { MEMCACHED_ITEM_OVERHEAD } from '@lovely-memcached/core';
import { expect, it } from 'vitest';
import { bytes, type ContractContext, text } from './context';

export function limitsContract(ctx: ContractContext): void {
  const limit = () => ctx.capabilities.maxItemSize ?? 1024 * 1024;
  const largest = (key: string) => limit() - MEMCACHED_ITEM_OVERHEAD - key.length;

  it('stores the largest item that fits and refuses one byte more', async () => {
    const key = ctx.key();
    expect(await ctx.transport().set(key, new Uint8Array(largest(key)))).toBe('stored');
    expect((await ctx.transport().get(key))?.value.length).toBe(largest(key));
    const other = ctx.key();
    expect(await ctx.transport().set(other, new Uint8Array(largest(other) + 1))).toBe('too-large');
    expect(await ctx.transport().get(other)).toBeUndefined();
  });

  it('declares the item size limit the store runs with', () => {
    expect(ctx.transport().capabilities.maxItemSize).toBe(limit());
  });

  it('a refused set also drops the old item; a refused add keeps it', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('old'));
    expect(await ctx.transport().add(key, new Uint8Array(limit()))).toBe('too-large');
    expect(text((await ctx.transport().get(key))?.value)).toBe('old');
    expect(await ctx.transport().set(key, new Uint8Array(limit()))).toBe('too-large');
    expect(await ctx.transport().get(key)).toBeUndefined();
  });

  it('an append that would overflow the limit is not stored, and changes nothing', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, new Uint8Array(largest(key) - 10));
    expect(await ctx.transport().append(key, new Uint8Array(20))).toBe('not-stored');
    expect((await ctx.transport().get(key))?.value.length).toBe(largest(key) - 10);
  });
}
