import { expect, it } from 'vitest';
import { bytes, type ContractContext } from './context';

/** stats and flush. */
export function serverContract(ctx: ContractContext): void {
  it('stats reports each server as host:port with weight and memcached counters', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('v'));
    const before = await ctx.transport().stats();
    expect(before.length).toBeGreaterThan(0);
    for (const { server, weight, stats } of before) {
      expect(server).toMatch(/^[^\s:]+:\d+$/);
      expect(weight).toBe(1);
      for (const name of [
        'curr_items',
        'total_items',
        'get_hits',
        'get_misses',
        'cmd_get',
        'cmd_set',
        'bytes',
      ]) {
        expect(stats[name], name).toMatch(/^\d+$/);
      }
    }
    const hits = (all: typeof before) => all.reduce((sum, s) => sum + Number(s.stats.get_hits), 0);
    await ctx.transport().get(key);
    expect(hits(await ctx.transport().stats())).toBeGreaterThan(hits(before));
  });

  it('flush empties the server', async () => {
    const key = ctx.key();
    await ctx.transport().set(key, bytes('v'));
    await ctx.transport().flush();
    expect(await ctx.transport().get(key)).toBeUndefined();
    expect(await ctx.transport().set(key, bytes('again'))).toBe('stored');
  });
}
