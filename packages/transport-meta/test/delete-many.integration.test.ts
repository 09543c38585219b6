/**
 * `deleteMany`, what invalidating a dependency with many dependents rests on: quiet `md … q` closed by one `mn`
 * per server (classic `delete`s pipelined behind a proxy), every key deleted, missing keys and a down server
 * settling the call, never hanging it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { CommandContext } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metaTransport } from '../src';

let servers: RunningMemcached[] = [];
const addresses = () => servers.map((s) => s.servers[0] as string);

beforeAll(async () => {
  servers = await Promise.all([startMemcached(), startMemcached()]);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

const statsOf = async (transport: ReturnType<ReturnType<typeof metaTransport>>) =>
  (await transport.stats()).map(({ stats }) => ({
    deleteHits: Number(stats.delete_hits),
    deleteMisses: Number(stats.delete_misses),
  }));

describe.each([
  ['meta commands', { proxy: false }],
  ['classic commands (proxy: true, here straight to memcached)', { proxy: true }],
] as const)('deleteMany over %s', (_, options) => {
  it('deletes 5,000 keys over 2 servers in one call, with one request per server, missing keys included', async () => {
    // A generous deadline: 5,000 pipelined sets on a loaded machine can take longer than the default 500 ms.
    const transport = metaTransport({ ...options, timeout: 5000 })(addresses());
    const direct = metaTransport({ timeout: 5000 })(addresses());
    const keys = Array.from({ length: 5000 }, (_, i) => `many-${options.proxy}-${i}`);
    await Promise.all(keys.map((key) => transport.set(key, Buffer.from('v'))));
    const before = await statsOf(direct);
    const commands: CommandContext[] = [];
    const listener = (message: unknown) => commands.push(message as CommandContext);
    subscribe('tracing:lovely-memcached:command:start', listener);
    try {
      await transport.deleteMany?.([...keys, 'never-set-1', 'never-set-2']);
    } finally {
      unsubscribe('tracing:lovely-memcached:command:start', listener);
    }
    const after = await statsOf(direct);
    expect(typeof transport.deleteMany).toBe('function');
    // One traced request per server, carrying all of its keys.
    expect(commands.map((c) => c.command)).toEqual(['deleteMany', 'deleteMany']);
    expect(commands.reduce((n, c) => n + c.keys, 0)).toBe(5002);
    const hits = after.reduce((n, s, i) => n + s.deleteHits - (before[i]?.deleteHits ?? 0), 0);
    const misses = after.reduce((n, s, i) => n + s.deleteMisses - (before[i]?.deleteMisses ?? 0), 0);
    expect(hits).toBe(5000);
    expect(misses).toBe(2);
    // Both servers took part, and nothing is left.
    expect(after.every((s, i) => s.deleteHits > (before[i]?.deleteHits ?? 0))).toBe(true);
    const left = await transport.getMulti?.(keys);
    expect(left?.size).toBe(0);
    await Promise.all([transport.close(), direct.close()]);
  });

  it('with one server down, deletes on the other and settles within the deadline', async () => {
    const dead = await startMemcached();
    const deadAddress = dead.servers[0] as string;
    await dead.stop();
    const transport = metaTransport({ ...options, timeout: 200 })([addresses()[0] as string, deadAddress]);
    const keys = Array.from({ length: 200 }, (_, i) => `half-${options.proxy}-${i}`);
    await Promise.all(keys.map((key) => transport.set(key, Buffer.from('v'))));
    const started = performance.now();
    await transport.deleteMany?.(keys);
    expect(performance.now() - started).toBeLessThan(2000);
    const left = await transport.getMulti?.(keys);
    expect(left?.size).toBe(0);
    await transport.close();
  });
});
