/**
 * Differential test: random sequences of memcached operations run through the memjs transport (binary
 * protocol) and the meta transport (meta commands, and classic commands with `proxy: true`) against the same
 * memcached, step by step, each under its own key prefix; every result must match. CAS values are compared by
 * what they do (a `cas` with the value just read must succeed, a stale one must fail), not by number.
 */
import { randomUUID } from 'node:crypto';
import { MEMCACHED_ITEM_OVERHEAD, type Transport } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LIMIT = 1024 * 1024;

type Op =
  | { op: 'set' | 'add'; key: number; value: string; flags: number; exptime: number }
  | { op: 'large'; kind: 'set' | 'add'; key: number; over: number; flags: number }
  | { op: 'append'; key: number; value: string }
  | { op: 'get' | 'delete'; key: number }
  | { op: 'cas'; key: number; value: string; fresh: boolean }
  | { op: 'getMulti'; keys: number[] }
  | { op: 'incr'; key: number; delta: bigint }
  | { op: 'touch'; key: number; exptime: number }
  | { op: 'flush' }
  | { op: 'pause' };

const key = fc.integer({ min: 0, max: 2 });
const exptime = fc.constantFrom(0, 1, 5, -1);
const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[ +-]?\d{1,3}[ a]?$/),
  fc.bigInt({ min: 0n, max: 2n ** 64n + 5n }).map(String),
  fc.constantFrom(
    '007',
    '12 ',
    ' 12',
    '12 abc',
    '+5',
    '-1',
    '18446744073709551615',
    '',
    'ü',
    'a\r\nEN O1\r\n',
  ),
);
const flags = fc.oneof(fc.nat(), fc.constantFrom(0, 0xffff_ffff));
const storeOps: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('set' as const, 'add' as const), key, value, flags, exptime }),
  fc.record({
    op: fc.constant('large' as const),
    kind: fc.constantFrom('set' as const, 'add' as const),
    key,
    over: fc.integer({ min: -5, max: 1 }),
    flags: fc.constantFrom(0, 7),
  }),
  fc.record({ op: fc.constant('append' as const), key, value }),
  fc.record({ op: fc.constantFrom('get' as const, 'delete' as const), key }),
  fc.record({ op: fc.constant('cas' as const), key, value, fresh: fc.boolean() }),
  fc.record({ op: fc.constant('getMulti' as const), keys: fc.array(key, { maxLength: 5 }) }),
  fc.record({ op: fc.constant('incr' as const), key, delta: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({ op: fc.constant('touch' as const), key, exptime }),
);
const sequence = (withPauses: boolean): fc.Arbitrary<Op[]> =>
  fc.array<Op>(
    withPauses
      ? fc.oneof(
          { weight: 12, arbitrary: storeOps },
          { weight: 1, arbitrary: fc.constant({ op: 'pause' } as const) },
        )
      : fc.oneof(
          { weight: 20, arbitrary: storeOps },
          { weight: 1, arbitrary: fc.constant({ op: 'flush' } as const) },
        ),
    { minLength: 1, maxLength: 25 },
  );

const hex = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');

async function apply(t: Transport, prefix: string, op: Op): Promise<unknown> {
  const k = (n: number) => `${prefix}${n}`;
  switch (op.op) {
    case 'set':
    case 'add':
      return t[op.op](k(op.key), Buffer.from(op.value), { flags: op.flags, exptime: op.exptime });
    case 'large': {
      const size = LIMIT - MEMCACHED_ITEM_OVERHEAD - k(op.key).length + op.over;
      return t[op.kind](k(op.key), Buffer.alloc(size, 'l'), { flags: op.flags });
    }
    case 'append':
      return t.append(k(op.key), Buffer.from(op.value));
    case 'get': {
      const item = await t.get(k(op.key));
      return item && [hex(item.value), item.flags];
    }
    case 'cas': {
      const item = await t.get(k(op.key));
      const cas = item?.cas === undefined ? 1n : op.fresh ? item.cas : item.cas + 1000n;
      return t.cas?.(k(op.key), Buffer.from(op.value), cas);
    }
    case 'getMulti': {
      const found = (await t.getMulti?.(op.keys.map(k))) ?? new Map();
      return [...found]
        .map(([name, item]) => [name.slice(prefix.length), hex(item.value), item.flags])
        .sort();
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
      return new Promise((resolve) => setTimeout(resolve, 2200));
  }
}

describe.each([
  ['meta commands', {}],
  ['classic commands (proxy: true)', { proxy: true }],
] as const)('memjs transport vs meta transport (%s) on the same memcached', (_, options) => {
  let server: RunningMemcached;
  let memjs: Transport;
  let meta: Transport;
  beforeAll(async () => {
    server = await startMemcached();
    memjs = memjsTransport()(server.servers);
    meta = metaTransport(options)(server.servers);
  });
  afterAll(async () => {
    await Promise.all([memjs.close(), meta.close()]);
    await server.stop();
  });

  async function compare(ops: Op[]): Promise<void> {
    const run = randomUUID();
    const [a, b] = [`diff:${run}:a:`, `diff:${run}:b:`];
    for (const [index, op] of ops.entries()) {
      if (op.op === 'pause') {
        await apply(memjs, a, op);
        continue;
      }
      const fromMemjs = await apply(memjs, a, op);
      const fromMeta = await apply(meta, b, op);
      expect(
        fromMeta,
        `step ${index}: ${JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`,
      ).toEqual(fromMemjs);
    }
  }

  it('agree on random operation sequences', async () => {
    await fc.assert(fc.asyncProperty(sequence(false), compare), { numRuns: 150 });
  }, 60_000);

  it('agree on expiry across pauses', async () => {
    await fc.assert(fc.asyncProperty(sequence(true), compare), { numRuns: 3 });
  }, 60_000);
});
