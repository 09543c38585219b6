/**
 * Properties of the core over the memory transport, checked with fast-check: reads agree with a model of what
 * was written, invalidation wins over any interleaving of concurrent writers, keys() is the model's live keys,
 * and hashing is stable and collision-free.
 */
import { type Key, MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interleaving, seededRandom } from './support/interleaving-transport';

const servers = ['10.2.0.1:11211', '10.2.0.2:11211'];
const keyArb = fc.constantFrom<Key>('a', 'b', 1, '1', ['a', 1], { x: 1 });
const depArb = fc.constantFrom('d1', 'd2', 'd3');
const valueArb = fc.oneof(fc.string(), fc.integer(), fc.array(fc.nat(), { maxLength: 3 }), fc.constant(null));

type Step =
  | { op: 'set'; key: Key; value: unknown; deps: string[] }
  | { op: 'query'; key: Key }
  | { op: 'invalidate'; key: Key }
  | { op: 'invalidateDep'; dep: string };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    key: keyArb,
    value: valueArb,
    deps: fc.uniqueArray(depArb, { maxLength: 2 }),
  }),
  fc.record({ op: fc.constant('query' as const), key: keyArb }),
  fc.record({ op: fc.constant('invalidate' as const), key: keyArb }),
  fc.record({ op: fc.constant('invalidateDep' as const), dep: depArb }),
);

const id = (key: Key) => JSON.stringify(key);

describe('core properties', () => {
  it('a query returns exactly the last value set, or nothing once invalidated', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 40 }), async (steps) => {
        const memory = memoryTransport();
        const [writer, reader] = [0, 1].map(() => new MemcachedClient({ transport: memory, servers })) as [
          MemcachedClient,
          MemcachedClient,
        ];
        const model = new Map<string, { value: unknown; deps: string[] }>();
        for (const step of steps) {
          if (step.op === 'set') {
            await writer.set(step.key, step.value, { dependencies: step.deps });
            model.set(id(step.key), { value: step.value, deps: step.deps });
          } else if (step.op === 'invalidate') {
            await reader.invalidate(step.key);
            model.delete(id(step.key));
          } else if (step.op === 'invalidateDep') {
            await writer.invalidate(undefined, { dependencies: [step.dep] });
            for (const [k, entry] of model) if (entry.deps.includes(step.dep)) model.delete(k);
          } else {
            expect(await reader.query(step.key)).toEqual(model.get(id(step.key))?.value);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('after invalidate(dependency) resolves, no earlier dependent is readable, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.array(fc.tuple(keyArb, valueArb), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(keyArb, valueArb), { maxLength: 6 }),
        async (seed, before, concurrent) => {
          const memory = memoryTransport();
          // Every transport call of the racing clients waits a random number of turns: fast-check picks the
          // seed, so a failing interleaving shrinks and replays.
          const shuffled = interleaving(memory, seededRandom(seed));
          const writer = new MemcachedClient({ transport: memory, servers });
          const racer = new MemcachedClient({ transport: shuffled, servers });
          const invalidator = new MemcachedClient({ transport: shuffled, servers });
          for (const [key, value] of before) await writer.set(key, { old: value }, { dependencies: ['d'] });

          const racing = concurrent.map(([key, value]) =>
            racer.set(key, { fresh: value }, { dependencies: ['d'] }),
          );
          await invalidator.invalidate(undefined, { dependencies: ['d'] });
          const reader = new MemcachedClient({ transport: shuffled, servers });
          for (const [key] of before) {
            const found = await reader.query<{ old?: unknown }>(key);
            expect(found === undefined || !('old' in found)).toBe(true);
          }
          await Promise.all(racing);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keys() equals the model’s live keys, across expiry and invalidation', async () => {
    const trackStep = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key: keyArb, lifetime: fc.constantFrom(0, 1, 10) }),
      fc.record({ op: fc.constant('invalidate' as const), key: keyArb }),
      fc.record({ op: fc.constant('elapse' as const), ms: fc.constantFrom(500, 1500) }),
      fc.record({ op: fc.constant('keys' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(trackStep, { maxLength: 30 }), async (steps) => {
        let now = Date.UTC(2026, 0, 1);
        const memory = memoryTransport({ now: () => now });
        const a = new MemcachedClient({ transport: memory, servers, trackKeys: true, now: () => now });
        const b = new MemcachedClient({ transport: memory, servers, trackKeys: true, now: () => now });
        const live = new Map<string, { key: Key; expiresAt: number }>();
        let turn = 0;
        for (const step of steps) {
          const client = turn++ % 2 ? a : b;
          if (step.op === 'set') {
            await client.set(step.key, 'v', { lifetime: step.lifetime });
            live.set(id(step.key), {
              key: step.key,
              expiresAt: step.lifetime ? now + step.lifetime * 1000 : Infinity,
            });
          } else if (step.op === 'invalidate') {
            await client.invalidate(step.key);
            live.delete(id(step.key));
          } else if (step.op === 'elapse') {
            now += step.ms;
          } else {
            const expected = [...live.values()].filter((e) => e.expiresAt > now).map((e) => id(e.key));
            expect((await client.keys()).map(id).sort()).toEqual(expected.sort());
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('hashing is stable, ignores property order, and gives distinct keys distinct hashes', async () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    const keyTree = fc.letrec((tie) => ({
      key: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('key'), { maxLength: 3 }),
        fc.dictionary(fc.string(), tie('key'), { maxKeys: 3 }),
      ),
    })).key as fc.Arbitrary<Key>;
    const memory = memoryTransport();
    const client = new MemcachedClient({ transport: memory, servers: [servers[0] as string] });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(keyTree, { selector: (k) => canonical(k), maxLength: 20 }),
        async (keys) => {
          const hashes = await Promise.all(keys.map((k) => client.set(k, 1)));
          expect(new Set(hashes).size).toBe(keys.length);
          const again = await Promise.all(keys.map((k) => client.set(reorder(k), 1)));
          expect(again).toEqual(hashes);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** The same structure with every object's properties in reverse order. */
function reorder(key: Key): Key {
  if (Array.isArray(key)) return key.map(reorder);
  if (typeof key === 'object' && key !== null) {
    return Object.fromEntries(
      Object.entries(key)
        .reverse()
        .map(([k, v]) => [k, reorder(v as Key)]),
    );
  }
  return key;
}

/** A reference canonical form, independent of the library's, to tell distinct keys apart. */
function canonical(key: unknown): string {
  if (Array.isArray(key)) return `[${key.map(canonical).join(',')}]`;
  if (typeof key === 'object' && key !== null) {
    return `{${Object.keys(key)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((key as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return `${typeof key}:${Object.is(key, -0) ? '0' : String(key)}`;
}
