/**
 * Differential test: random sequences of memcached operations run against the memory transport and a real
 * memcached, step by step; every result must match. Expiry: lifetimes of 1 s (surely gone after a 2.2 s pause)
 * and 5 s (surely alive), since memcached's clock ticks in whole seconds; the memory clock is moved, memcached
 * really waits.
 */
import { randomUUID } from 'node:crypto';
import type { Transport } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Op =
  | { op: 'set' | 'add'; key: number; value: string; flags: number; exptime: number }
  | { op: 'append'; key: number; value: string }
  | { op: 'get' | 'delete'; key: number }
  | { op: 'getMulti'; keys: number[] }
  | { op: 'incr'; key: number; delta: bigint }
  | { op: 'touch'; key: number; exptime: number }
  | { op: 'flush' }
  | { op: 'pause' };

const key = fc.integer({ min: 0, max: 2 });
// memcached's clock ticks in whole seconds: an item given 1 s can expire a few ms after it was set (when the
// second turns), so 1 s lifetimes are drawn only where pauses of 2.2 s make their fate certain.
const exptimeWithPauses = fc.constantFrom(0, 1, 5);
const exptimeWithoutPauses = fc.constantFrom(0, 5);
const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[ +-]?\d{1,3}[ a]?$/),
  fc.bigInt({ min: 0n, max: 2n ** 64n + 5n }).map(String),
  fc.constantFrom('007', '12 ', ' 12', '12 abc', '+5', '-1', '18446744073709551615', '', 'ü'),
);
const storeOps = (exptime: fc.Arbitrary<number>): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ op: fc.constantFrom('set' as const, 'add' as const), key, value, flags: fc.nat(), exptime }),
    fc.record({ op: fc.constant('append' as const), key, value }),
    fc.record({ op: fc.constantFrom('get' as const, 'delete' as const), key }),
    fc.record({ op: fc.constant('getMulti' as const), keys: fc.array(key, { maxLength: 5 }) }),
    fc.record({ op: fc.constant('incr' as const), key, delta: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    fc.record({ op: fc.constant('touch' as const), key, exptime }),
  );
const sequence = (withPauses: boolean): fc.Arbitrary<Op[]> =>
  fc.array<Op>(
    withPauses
      ? fc.oneof(
          { weight: 12, arbitrary: storeOps(exptimeWithPauses) },
          { weight: 1, arbitrary: fc.constant({ op: 'pause' } as const) },
        )
      : fc.oneof(
          { weight: 20, arbitrary: storeOps(exptimeWithoutPauses) },
          { weight: 1, arbitrary: fc.constant({ op: 'flush' } as const) },
        ),
    { minLength: 1, maxLength: 25 },
  );

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');

async function apply(
  t: Transport,
  prefix: string,
  op: Op,
  pause: (ms: number) => Promise<void>,
): Promise<unknown> {
  const k = (n: number) => `${prefix}${n}`;
  switch (op.op) {
    case 'set':
    case 'add':
      return t[op.op](k(op.key), Buffer.from(op.value), { flags: op.flags, exptime: op.exptime });
    case 'append':
      return t.append(k(op.key), Buffer.from(op.value));
    case 'get': {
      const item = await t.get(k(op.key));
      return item && [text(item.value), item.flags];
    }
    case 'getMulti': {
      const found = (await t.getMulti?.(op.keys.map(k))) ?? new Map();
      return [...found].map(([name, item]) => [name, text(item.value), item.flags]).sort();
    }
    case 'delete':
      return t.delete(k(op.key));
    case 'incr':
      return t.incr(k(op.key), op.delta);
    case 'touch':
      return t.touch(k(op.key), op.exptime);
    case 'flush':
      return t.flush();
    case 'pause':
      return pause(2200);
  }
}

describe('memory transport vs real memcached', () => {
  let server: RunningMemcached;
  let real: Transport;
  beforeAll(async () => {
    server = await startMemcached();
    real = memjsTransport()(server.servers);
  });
  afterAll(async () => {
    await real.close();
    await server.stop();
  });

  async function compare(ops: Op[]): Promise<void> {
    let offset = 0;
    const memory = memoryTransport({ now: () => Date.now() + offset })(['127.0.0.1:11211']);
    const prefix = `diff:${randomUUID()}:`;
    for (const [index, op] of ops.entries()) {
      const fromMemory = await apply(memory, prefix, op, async (ms) => {
        offset += ms;
      });
      const fromMemcached = await apply(real, prefix, op, (ms) => new Promise((r) => setTimeout(r, ms)));
      expect(
        fromMemory,
        `step ${index}: ${JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`,
      ).toEqual(fromMemcached);
    }
  }

  it('agree on random operation sequences', async () => {
    await fc.assert(fc.asyncProperty(sequence(false), compare), { numRuns: 150 });
  }, 60_000);

  it('agree on expiry across pauses', async () => {
    await fc.assert(fc.asyncProperty(sequence(true), compare), { numRuns: 4 });
  }, 60_000);
});
