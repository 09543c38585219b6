import { once } from 'node:events';
import { connect } from 'node:net';
import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeReadThroughRoundTwo } from './read-through-round2.shared';
import { networkSetups } from './support/client-groups';

for (const [name, setup] of networkSetups()) describeReadThroughRoundTwo(name, setup);

describe('jitter, as memcached itself counts it', () => {
  let server: RunningMemcached;
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(() => server.stop());

  /** memcached's own remaining TTL of each key (`mg <key> t`), over one plain socket. */
  async function remainingTtls(keys: readonly string[]): Promise<number[]> {
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(keys.map((key) => `mg ${key} t\r\n`).join(''));
    let text = '';
    for await (const chunk of socket) {
      text += String(chunk);
      if ((text.match(/^HD/gm) ?? []).length >= keys.length) break;
    }
    socket.destroy();
    return [...text.matchAll(/^HD t(-?\d+)/gm)].map((match) => Number(match[1]));
  }

  it('lifetimes stored are spread over [lifetime, lifetime × (1 + jitter)], for set, getOrSet and a client default', async () => {
    const client = new MemcachedClient({ transport: memjsTransport(), servers: server.servers, jitter: 0.5 });
    const set = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.set(`set-${i}`, i, { lifetime: 100 })),
    );
    // Raw keys: the memcached key is the key itself.
    const computed = Array.from({ length: 40 }, (_, i) => `gos-${i}`);
    await Promise.all(
      computed.map((key) => client.getOrSet(key, async () => key, { lifetime: 100, raw: true })),
    );
    const plain: string[] = [];
    for (let i = 0; i < 40; i++)
      plain.push((await client.set(`plain-${i}`, i, { lifetime: 100, jitter: 0 })) as string);
    for (const [keys, jittered] of [
      [set as string[], true],
      [computed, true],
      [plain, false],
    ] as const) {
      const ttls = await remainingTtls(keys);
      expect(ttls).toHaveLength(40);
      for (const ttl of ttls) {
        expect(ttl).toBeGreaterThanOrEqual(98);
        expect(ttl).toBeLessThanOrEqual(jittered ? 151 : 101);
      }
      if (jittered) expect(Math.max(...ttls) - Math.min(...ttls)).toBeGreaterThan(15);
    }
    await client.close();
  });
});
