import { expect, it } from 'vitest';
import { bytes, type ContractContext, text } from './context';

/** get / set / add / append / delete, flags and bytes. */
export function storageContract(ctx: ContractContext): void {
  it('get of a missing key is undefined', async () => {
    expect(await ctx.transport().get(ctx.key())).toBeUndefined();
  });

  it('set then get returns the bytes and flags', async () => {
    const key = ctx.key();
    expect(await ctx.transport().set(key, bytes('hello'), { flags: 7 })).toBe('stored');
    const item = await ctx.transport().get(key);
    expect(text(item?.value)).toBe('hello');
    expect(item?.flags).toBe(7);
  });

  it.each([0, 1, 0x4c4d0101, 0xffffffff])('keeps the 32-bit flags word %i', async (flags) => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('v'), { flags });
    expect((await ctx.transport().get(key))?.flags).toBe(flags);
  });

  it('round-trips every byte value, and the empty value', async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const key = ctx.key();
    await ctx.transport().set(key, all);
    expect([...((await ctx.transport().get(key))?.value ?? [])]).toEqual([...all]);
    const empty = ctx.key();
    expect(await ctx.transport().set(empty, new Uint8Array(0))).toBe('stored');
    expect((await ctx.transport().get(empty))?.value.length).toBe(0);
  });

  it('set overwrites', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('one'));
    await ctx.transport().set(key, bytes('two'), { flags: 2 });
    const item = await ctx.transport().get(key);
    expect([text(item?.value), item?.flags]).toEqual(['two', 2]);
  });

  it('add stores only when absent', async () => {
    const key = ctx.key();
    expect(await ctx.transport().add(key, bytes('first'))).toBe('stored');
    expect(await ctx.transport().add(key, bytes('second'))).toBe('exists');
    expect(text((await ctx.transport().get(key))?.value)).toBe('first');
  });

  it('append extends an item, keeping its flags; a missing one is not stored', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('a '), { flags: 0x4c4d0011 });
    expect(await ctx.transport().append(key, bytes('b '))).toBe('stored');
    expect(await ctx.transport().append(key, bytes('c '))).toBe('stored');
    const item = await ctx.transport().get(key);
    expect([text(item?.value), item?.flags]).toEqual(['a b c ', 0x4c4d0011]);
    const missing = ctx.key();
    expect(await ctx.transport().append(missing, bytes('x'))).toBe('not-stored');
    expect(await ctx.transport().get(missing)).toBeUndefined();
  });

  it('concurrent appends are all kept', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes(''));
    await Promise.all(Array.from({ length: 50 }, (_, i) => ctx.transport().append(key, bytes(`${i} `))));
    const parts =
      text((await ctx.transport().get(key))?.value)
        ?.trim()
        .split(' ') ?? [];
    expect(parts.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('delete removes; deleting a missing key is false', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('v'));
    expect(await ctx.transport().delete(key)).toBe(true);
    expect(await ctx.transport().get(key)).toBeUndefined();
    expect(await ctx.transport().delete(key)).toBe(false);
  });

  it('deleteMany removes every key in one call, missing ones included', async () => {
    const transport = ctx.transport();
    if (transport.deleteMany === undefined) return;
    const keys = Array.from({ length: 30 }, (_, i) => ctx.key(`many-${i}`));
    await Promise.all(keys.slice(0, 20).map((key) => transport.set(key, bytes('v'))));
    const kept = ctx.key('kept');
    await transport.set(kept, bytes('stays'));
    await transport.deleteMany(keys);
    expect((await transport.getMulti?.(keys))?.size ?? 0).toBe(0);
    for (const key of keys.slice(0, 3)) expect(await transport.get(key)).toBeUndefined();
    expect(text((await transport.get(kept))?.value)).toBe('stays');
  });
}
