/**
 * The dependency guarantee under concurrency: once `invalidate` has resolved, no query from any client returns a
 * value that was set with that dependency before the `invalidate` started, however writers and invalidations
 * interleave. Runs over any transport factory (memory with shuffled latencies, real memcached).
 */
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { expect } from 'vitest';
import { seededRandom } from './support/interleaving-transport';

interface Written {
  id: number;
}

export interface GuaranteeRun {
  violations: string[];
  writes: number;
  invalidations: number;
  /** Queries after an invalidation that found a value (written concurrently or after): proves reads hit at all. */
  hitsAfterInvalidation: number;
}

export async function runDependencyRace(
  transport: TransportFactory,
  servers: string[],
  { seed, clients = 8, writesPerWriter = 40, invalidationsPerInvalidator = 6 } = {
    seed: 1,
  } as { seed: number; clients?: number; writesPerWriter?: number; invalidationsPerInvalidator?: number },
): Promise<GuaranteeRun> {
  const random = seededRandom(seed);
  const ns = `race-${seed}-${Math.random().toString(36).slice(2)}`;
  const pool = Array.from(
    { length: clients },
    () => new MemcachedClient({ transport, servers, defaultNS: ns }),
  );
  const pick = () => pool[Math.floor(random() * pool.length)] as MemcachedClient;
  const keys = Array.from({ length: 12 }, (_, i) => `entry-${i}`);
  const dependencies = ['dep-a', 'dep-b'];

  let nextId = 0;
  // For each dependency, the ids of writes carrying it that had completed, in completion order.
  const completed = new Map<string, number[]>(dependencies.map((d) => [d, []]));
  const run: GuaranteeRun = { violations: [], writes: 0, invalidations: 0, hitsAfterInvalidation: 0 };

  const writer = async () => {
    for (let i = 0; i < writesPerWriter; i++) {
      const id = ++nextId;
      const deps = dependencies.filter(() => random() < 0.7);
      const key = keys[Math.floor(random() * keys.length)] as string;
      const stored = await pick().set(key, { id, deps } satisfies Written & { deps: string[] }, {
        dependencies: deps,
      });
      if (stored !== null) for (const d of deps) completed.get(d)?.push(id);
      run.writes++;
    }
  };

  const invalidator = async () => {
    for (let i = 0; i < invalidationsPerInvalidator; i++) {
      await new Promise((resolve) => setTimeout(resolve, random() * 3));
      const dependency = dependencies[Math.floor(random() * dependencies.length)] as string;
      const before = new Set(completed.get(dependency));
      await pick().invalidate(undefined, { dependencies: [dependency] });
      run.invalidations++;
      const found = await Promise.all(keys.map((key) => pick().query<Written>(key)));
      found.forEach((value, index) => {
        if (value === undefined) return;
        run.hitsAfterInvalidation++;
        if (before.has(value.id)) {
          run.violations.push(
            `${keys[index]} returned write ${value.id}, done before invalidating ${dependency}`,
          );
        }
      });
    }
  };

  await Promise.all([
    ...Array.from({ length: clients }, writer),
    ...Array.from({ length: Math.max(2, clients / 4) }, invalidator),
  ]);
  await Promise.all(pool.map((c) => c.close()));
  return run;
}

export function expectGuaranteeHeld(run: GuaranteeRun): void {
  expect(run.violations).toEqual([]);
  expect(run.invalidations).toBeGreaterThan(0);
  expect(run.writes).toBeGreaterThan(0);
}

/**
 * Rounds of: entries tied to a dependency, filler that forces evictions, an invalidation; after each one no
 * entry of the round may be readable, whatever memcached evicted of the bookkeeping.
 */
export async function runEvictionRounds(
  client: MemcachedClient,
  { rounds, entries, filler, size }: { rounds: number; entries: number; filler: number; size: number },
): Promise<{ checked: number; evictions: number }> {
  const value = 'x'.repeat(size);
  let checked = 0;
  for (let round = 0; round < rounds; round++) {
    const keys = Array.from({ length: entries }, (_, i) => `r${round}-k${i}`);
    const dependencies = [`dep-${round % 3}`];
    await Promise.all(keys.map((key) => client.set(key, value, { dependencies })));
    await Promise.all(Array.from({ length: filler }, (_, i) => client.set(`fill-${round}-${i}`, value)));
    await client.invalidate(undefined, { dependencies });
    for (const found of await Promise.all(keys.map((key) => client.query(key)))) {
      expect(found).toBeUndefined();
      checked++;
    }
  }
  const stats = await client.getStatistics();
  return { checked, evictions: stats.reduce((sum, [, s]) => sum + Number(s.evictions), 0) };
}
