import { describe, expect, it } from 'vitest';
import { memoryTransport } from '../src';

describe('reachable(key) follows the key’s server', () => {
  it('false while its server is down, true again when it is up; other servers’ keys unaffected', () => {
    const memory = memoryTransport();
    const servers = ['127.0.0.1:11211', '127.0.0.1:11212'];
    const transport = memory(servers);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    expect(keys.every((key) => transport.reachable?.(key))).toBe(true);

    memory.down('127.0.0.1:11211');
    const onDown = keys.filter((key) => transport.reachable?.(key) === false);
    // Both servers hold some of the keys, and exactly the down server's keys are unreachable.
    expect(onDown.length).toBeGreaterThan(0);
    expect(onDown.length).toBeLessThan(keys.length);
    for (const key of onDown) expect(memory.store('127.0.0.1:11212').keys()).not.toContain(key);

    memory.up('127.0.0.1:11211');
    expect(keys.every((key) => transport.reachable?.(key))).toBe(true);
  });

  it('false for every key once the transport is closed (its calls no longer reach any server)', async () => {
    const transport = memoryTransport()(['127.0.0.1:11211']);
    await transport.close();
    expect(transport.reachable?.('k')).toBe(false);
    expect(await transport.get('k')).toBeUndefined();
  });

  it('answers for a key memcached could not hold instead of throwing', () => {
    const memory = memoryTransport();
    const transport = memory(['127.0.0.1:11211']);
    expect(transport.reachable?.('has space')).toBe(true);
    memory.down('127.0.0.1:11211');
    expect(transport.reachable?.('has space')).toBe(false);
  });
});
