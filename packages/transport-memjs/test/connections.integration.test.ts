/**
 * `connections: n`: up to n connections per server, each request on the least busy one; a whole number >= 1,
 * checked when the transport is made.
 */
import { CacheError } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memjsTransport } from '../src';

let server: RunningMemcached;
beforeAll(async () => {
  server = await startMemcached({ args: ['-t', '4'] });
});
afterAll(async () => {
  await server?.stop();
});

/** Connections memcached has accepted so far (a counter, unlike curr_connections, not blurred by closes). */
async function acceptedSoFar(): Promise<number> {
  const probe = memjsTransport()(server.servers);
  const [stats] = await probe.stats();
  await probe.close();
  return Number(stats?.stats.total_connections);
}

describe('connections per server', () => {
  it.each([1, 2, 4])(
    'connections: %i opens that many under concurrent use, and every answer is right',
    async (n) => {
      const before = await acceptedSoFar();
      const transport = memjsTransport({ connections: n })(server.servers);
      const keys = Array.from({ length: 256 }, (_, i) => `conn-${n}-${i}`);
      for (let round = 0; round < 3; round++) {
        const stored = await Promise.all(
          keys.map((key) => transport.set(key, Buffer.from(`${key}@${round}`))),
        );
        expect(stored.every((status) => status === 'stored')).toBe(true);
        const read = await Promise.all(keys.map((key) => transport.get(key)));
        expect(read.map((item) => Buffer.from(item?.value ?? []).toString())).toEqual(
          keys.map((key) => `${key}@${round}`),
        );
      }
      await transport.close();
      // Minus the connection of the second count itself.
      expect((await acceptedSoFar()) - before - 1).toBe(n);
    },
  );

  it('is one connection by default', async () => {
    const before = await acceptedSoFar();
    const transport = memjsTransport()(server.servers);
    await Promise.all(Array.from({ length: 64 }, (_, i) => transport.set(`default-${i}`, Buffer.from('v'))));
    await transport.close();
    expect((await acceptedSoFar()) - before - 1).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN, '2', Number.POSITIVE_INFINITY])(
    'refuses connections: %s, naming `connections`',
    (connections) => {
      let thrown: unknown;
      try {
        memjsTransport({ connections: connections as number });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(CacheError);
      expect(thrown).toMatchObject({ code: 'ERR_INVALID_OPTION' });
      expect((thrown as Error).message).toMatch(/`connections`/);
    },
  );
});
