/**
 * The core over a misbehaving transport: failures, drops, delays and corrupted replies. Invariants: no call
 * throws, no unhandled rejection, every call settles within a bound, and service resumes when faults stop.
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { chaosTransport } from '@lovely-memcached/testing';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { seededRandom } from './support/interleaving-transport';
import { trackUnhandledRejections } from './support/unhandled-rejections';

const servers = ['10.1.0.1:11211', '10.1.0.2:11211'];
const unhandled = trackUnhandledRejections();

async function workload(clients: MemcachedClient[], random: () => number, operations: number) {
  const outcome = { settled: 0, threw: [] as unknown[], slowest: 0 };
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = 0; i < operations; i++) {
        const key = `k${Math.floor(random() * 20)}`;
        const pick = random();
        const started = performance.now();
        try {
          if (pick < 0.3)
            await client.set(key, { c, i }, { dependencies: random() < 0.5 ? ['d1', 'd2'] : [] });
          else if (pick < 0.7) await client.query(key);
          else if (pick < 0.8) await client.invalidate(undefined, { dependencies: ['d1'] });
          else if (pick < 0.85) await client.invalidate(key);
          else if (pick < 0.93 && client.trackKeys) await client.keys();
          else if (pick < 0.97) await client.dependents('d2');
          else await client.getStatistics();
        } catch (error) {
          outcome.threw.push(error);
        }
        outcome.slowest = Math.max(outcome.slowest, performance.now() - started);
        outcome.settled++;
      }
    }),
  );
  return outcome;
}

describe('the core under chaos', () => {
  it('fails, drops, delays and corrupts: nothing throws, everything settles, service resumes', async () => {
    const random = seededRandom(42);
    const chaos = chaosTransport(
      memoryTransport(),
      { fail: 0.15, drop: 0.05, dropMs: 40, delayMs: 3, corrupt: 0.1 },
      random,
    );
    const clients = Array.from(
      { length: 16 },
      (_, i) => new MemcachedClient({ transport: chaos, servers, trackKeys: i % 2 === 0 }),
    );
    const outcome = await workload(clients, random, 40);
    expect(outcome.settled).toBe(16 * 40);
    expect(outcome.threw).toEqual([]);
    expect(unhandled.reasons).toEqual([]);
    // A call makes a few transport calls in sequence; each is held 40 ms at most when dropped.
    expect(outcome.slowest).toBeLessThan(2000);
    expect(chaos.counts.fail).toBeGreaterThan(50);
    expect(chaos.counts.drop).toBeGreaterThan(10);
    expect(chaos.counts.corrupt).toBeGreaterThan(10);

    chaos.faults = {};
    // Writers reuse a dependency token for 100 ms (see dependencies.ts): one another client invalidated in the
    // last moments of the chaos would make a write dead on arrival until then. Service resumes after that.
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (const [i, client] of clients.entries()) {
      expect(await client.set(`after-${i}`, i, { dependencies: ['d1'] })).not.toBeNull();
      expect(await client.query(`after-${i}`)).toBe(i);
    }
    await clients[0]?.invalidate(undefined, { dependencies: ['d1'] });
    expect(await Promise.all(clients.map((c, i) => c.query(`after-${i}`)))).toEqual(
      Array(16).fill(undefined),
    );
  });

  it.each([7, 8, 9, 10, 11, 12])(
    'a transport bug (a rejection) reaches only the caller of that call, never the process (seed %i)',
    async (seed) => {
      const random = seededRandom(seed);
      const chaos = chaosTransport(memoryTransport(), { reject: 0.2 }, random);
      const clients = Array.from(
        { length: 8 },
        () => new MemcachedClient({ transport: chaos, servers, trackKeys: true }),
      );
      const outcome = await workload(clients, random, 30);
      expect(outcome.settled).toBe(8 * 30);
      expect(outcome.threw.length).toBeGreaterThan(0);
      for (const error of outcome.threw) expect(String(error)).toContain('chaos:');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled.reasons).toEqual([]);
    },
  );
});
