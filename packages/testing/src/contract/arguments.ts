import { CacheError, InvalidKeyError } from '@lovely-memcached/core';
import { expect, it } from 'vitest';
import { bytes, type ContractContext } from './context';

/**
 * memcached's key rules and argument ranges, the same in every transport: what one refuses, all refuse, with a
 * typed error for that call alone (so tests over the memory transport catch what production would refuse).
 */
export function argumentsContract(ctx: ContractContext): void {
  const refusedKeys = ['', 'has space', 'line\nbreak', 'tab\tkey', 'k'.repeat(251), 'caf\u00e9'];

  it('refuses keys memcached cannot hold with InvalidKeyError, for every keyed call', async () => {
    const t = ctx.transport();
    for (const key of refusedKeys) {
      await expect(t.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(t.set(key, bytes('v'))).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(t.add(key, bytes('v'))).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(t.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(t.incr(key, 1)).rejects.toBeInstanceOf(InvalidKeyError);
    }
  });

  it('accepts 250 bytes of printable ASCII', async () => {
    const t = ctx.transport();
    const key = `${ctx.key('long')}:`.padEnd(250, 'x');
    expect(await t.set(key, bytes('v'))).toBe('stored');
    expect((await t.get(key))?.value).toBeDefined();
  });

  it('leaves keys it cannot hold out of a multi-get, answering the others', async () => {
    const t = ctx.transport();
    const key = ctx.key();
    await t.set(key, bytes('v'));
    const found = await t.getMulti?.([key, 'has space', '']);
    if (found !== undefined) expect([...found.keys()]).toEqual([key]);
  });

  it('refuses out-of-range arguments with a CacheError for that call alone', async () => {
    const t = ctx.transport();
    const key = ctx.key();
    await t.set(key, bytes('1'));
    const refused = [
      () => t.incr(key, 1.5),
      () => t.incr(key, -1),
      () => t.touch(key, 2 ** 33),
      () => t.touch(key, 0.5),
      () => t.set(key, bytes('v'), { flags: -1 }),
      () => t.set(key, bytes('v'), { flags: 2 ** 32 }),
      () => t.add(ctx.key(), bytes('v'), { exptime: Number.NaN }),
    ];
    for (const call of refused) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheError);
      expect((error as CacheError).code).toBe('ERR_INVALID_OPTION');
    }
    expect(await t.incr(key, 2)).toBe(3n);
  });

  it('reports every key reachable while its server answers', () => {
    const t = ctx.transport();
    if (t.reachable !== undefined) expect(t.reachable(ctx.key())).toBe(true);
  });
}
