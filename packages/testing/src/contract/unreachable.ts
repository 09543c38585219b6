import type { Transport } from '@lovely-memcached/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bytes, type ContractContext } from './context';

/** A server that does not answer costs misses, never a throw or a hang. */
export function unreachableContract(ctx: ContractContext): void {
  const make = ctx.capabilities.makeUnreachableTransport;
  if (make === undefined) return;
  let dead: Transport;
  beforeAll(async () => {
    dead = await make();
  });
  afterAll(async () => {
    await dead.close();
  });

  const deadline = () => ctx.capabilities.unreachableDeadlineMs ?? 1500;
  const settles = async <T>(call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await call();
    expect(performance.now() - started).toBeLessThan(deadline());
    return result;
  };

  it('every call resolves as a miss / unavailable within the deadline', async () => {
    const key = ctx.key();
    expect(await settles(() => dead.get(key))).toBeUndefined();
    expect((await settles(() => dead.getMulti?.([key, ctx.key()]) ?? Promise.resolve(new Map()))).size).toBe(
      0,
    );
    expect(await settles(() => dead.set(key, bytes('v')))).toBe('unavailable');
    expect(await settles(() => dead.add(key, bytes('v')))).toBe('unavailable');
    expect(await settles(() => dead.append(key, bytes('v')))).toBe('unavailable');
    expect(await settles(() => dead.cas?.(key, bytes('v'), 1n) ?? Promise.resolve('unavailable'))).toBe(
      'unavailable',
    );
    expect(await settles(() => dead.delete(key))).toBe(false);
    expect(await settles(() => dead.delete(key, { urgent: true }))).toBe(false);
    await settles(() => dead.deleteMany?.([key, ctx.key()]) ?? Promise.resolve());
    expect(await settles(() => dead.incr(key, 1))).toBeUndefined();
    expect(await settles(() => dead.touch(key, 1))).toBe(false);
    expect(await settles(() => dead.stats())).toEqual([]);
    await settles(() => dead.flush());
  });

  it('reports the keys of a server found down as unreachable', async () => {
    const key = ctx.key();
    await dead.get(key);
    if (dead.reachable !== undefined) expect(dead.reachable(key)).toBe(false);
  });

  it('many concurrent calls all settle', async () => {
    const results = await settles(() =>
      Promise.all(Array.from({ length: 100 }, (_, i) => dead.get(ctx.key(`c${i}`)))),
    );
    expect(results.every((item) => item === undefined)).toBe(true);
  });
}
