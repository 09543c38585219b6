import { expect, it } from 'vitest';
import { bytes, type ContractContext, text } from './context';

export function multiGetContract(ctx: ContractContext): void {
  it('getMulti returns the present keys only, each with its own value and flags', async () => {
    const getMulti = ctx.transport().getMulti;
    // Optional: the core falls back to `get` per key.
    if (getMulti === undefined) return;
    const present = Array.from({ length: 20 }, (_, i) => ctx.key(`m${i}`));
    const absent = Array.from({ length: 5 }, () => ctx.key('absent'));
    await Promise.all(present.map((key, i) => ctx.transport().set(key, bytes(`value-${i}`), { flags: i })));
    const keys = [...absent.slice(0, 2), ...present, ...absent.slice(2)];
    const found = await getMulti.call(ctx.transport(), keys);
    expect(found.size).toBe(20);
    present.forEach((key, i) => {
      expect(text(found.get(key)?.value)).toBe(`value-${i}`);
      expect(found.get(key)?.flags).toBe(i);
    });
    for (const key of absent) expect(found.has(key)).toBe(false);
  });

  it('getMulti of many keys, with duplicates, and of none', async () => {
    const getMulti = ctx.transport().getMulti;
    if (getMulti === undefined) return;
    const keys = Array.from({ length: 500 }, (_, i) => ctx.key(`many${i}`));
    await Promise.all(keys.map((key, i) => ctx.transport().set(key, bytes(String(i)))));
    const found = await getMulti.call(ctx.transport(), [...keys, ...keys.slice(0, 10)]);
    expect(found.size).toBe(500);
    expect(text(found.get(keys[499] as string)?.value)).toBe('499');
    expect((await getMulti.call(ctx.transport(), [])).size).toBe(0);
  });
}
