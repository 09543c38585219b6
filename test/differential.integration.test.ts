/**
 * Differential tests: random sequences of memcached operations run step by step through two transports; every
 * result must match.
 *
 * - The memory transport against a real memcached (memjs transport). Expiry: lifetimes of 2 and 5 s across
 *   pauses of 2.5 s, chosen so that no step ever falls where memcached's whole-second clock leaves an item's
 *   fate open (below); both on the real clock.
 * - The memjs transport (binary protocol) against the meta transport (meta commands, and classic commands with
 *   `proxy: true`) on the same memcached, each under its own key prefix, with what two wire protocols could
 *   read differently besides: items at the size limit, values that look like replies, the largest flags,
 *   negative lifetimes, and CAS compared by what it does (a `cas` with the value just read must succeed, a stale
 *   one must fail), not by number.
 */
import { randomUUID } from 'node:crypto';
import { MEMCACHED_ITEM_OVERHEAD, type Transport } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { metaTransport } from '@lovely-memcached/transport-meta';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectWarnings } from './support/expected-warnings';

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

/** `wire`: two network transports compared, so the operations where their protocols could differ are drawn too. */
interface Draw {
  wire: boolean;
  withPauses: boolean;
}

const key = fc.integer({ min: 0, max: 2 });
// memcached's clock ticks in whole seconds: an item given L seconds expires somewhere between L - 1 and L
// seconds after it was set (when the L-th tick comes), while the memory transport expires it at exactly L. A step
// taken between those two moments can disagree, so lifetimes and the pause keep every step out of that window:
// steps come k × 2.5 s plus the steps' own time δ after a store. For 2 s: δ < 1 (alive on both), 2.5 + δ > 2
// (gone on both); for 5 s: 2.5 + δ < 4, 5 + δ ≥ 5. Safe while the steps between a store and a read take under a
// second. Sequences without pauses keep 5 s, surely alive throughout.
const PAUSE_MS = 2500;
// The transports' deadline: these tests compare what memcached does, not how a late reply degrades (a miss
// after the default 500 ms, seen once under a full CI run as an `incr` that found nothing).
const DEADLINE_MS = 10_000;
const exptime = ({ wire, withPauses }: Draw) => {
  const lifetimes = withPauses ? [0, 2, 5] : [0, 5];
  return fc.constantFrom(...(wire ? [...lifetimes, -1] : lifetimes));
};
const value = ({ wire }: Draw) =>
  fc.oneof(
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
      // A value that reads as a meta reply if a transport ever took the data block for reply lines.
      ...(wire ? ['a\r\nEN O1\r\n'] : []),
    ),
  );
const flags = ({ wire }: Draw) => (wire ? fc.oneof(fc.nat(), fc.constantFrom(0, 0xffff_ffff)) : fc.nat());

function storeOps(draw: Draw): fc.Arbitrary<Op> {
  const lifetime = exptime(draw);
  const ops: Array<fc.Arbitrary<Op>> = [
    fc.record({
      op: fc.constantFrom('set' as const, 'add' as const),
      key,
      value: value(draw),
      flags: flags(draw),
      exptime: lifetime,
    }),
    fc.record({ op: fc.constant('append' as const), key, value: value(draw) }),
    fc.record({ op: fc.constantFrom('get' as const, 'delete' as const), key }),
    fc.record({ op: fc.constant('getMulti' as const), keys: fc.array(key, { maxLength: 5 }) }),
    fc.record({ op: fc.constant('incr' as const), key, delta: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    fc.record({ op: fc.constant('touch' as const), key, exptime: lifetime }),
  ];
  if (draw.wire) {
    ops.push(
      fc.record({
        op: fc.constant('large' as const),
        kind: fc.constantFrom('set' as const, 'add' as const),
        key,
        over: fc.integer({ min: -5, max: 1 }),
        flags: fc.constantFrom(0, 7),
      }),
      fc.record({ op: fc.constant('cas' as const), key, value: value(draw), fresh: fc.boolean() }),
    );
  }
  return fc.oneof(...ops);
}

const sequence = (draw: Draw): fc.Arbitrary<Op[]> =>
  fc.array<Op>(
    draw.withPauses
      ? fc.oneof(
          { weight: 12, arbitrary: storeOps(draw) },
          { weight: 1, arbitrary: fc.constant({ op: 'pause' } as const) },
        )
      : fc.oneof(
          { weight: 20, arbitrary: storeOps(draw) },
          { weight: 1, arbitrary: fc.constant({ op: 'flush' } as const) },
        ),
    { minLength: 1, maxLength: 25 },
  );

const hex = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `op` under `prefix`; a result comparable across transports (keys without their prefix). */
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
      return wait(PAUSE_MS);
  }
}

/**
 * Runs `ops` step by step on both transports, each step's results compared. One clock for both: a pause is
 * waited once, on the reference's side, and the subject's next step comes after it.
 */
async function agree(
  reference: Transport,
  referencePrefix: string,
  subject: Transport,
  subjectPrefix: string,
  ops: Op[],
): Promise<void> {
  for (const [index, op] of ops.entries()) {
    const expected = await apply(reference, referencePrefix, op);
    if (op.op === 'pause') continue;
    expect(await apply(subject, subjectPrefix, op), step(index, op)).toEqual(expected);
  }
}

const step = (index: number, op: Op) =>
  `step ${index}: ${JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;

describe('memory transport vs real memcached', () => {
  let server: RunningMemcached;
  let real: Transport;
  beforeAll(async () => {
    server = await startMemcached();
    real = memjsTransport({ timeout: DEADLINE_MS })(server.servers);
  });
  afterAll(async () => {
    await real.close();
    await server.stop();
  });

  async function compare(ops: Op[]): Promise<void> {
    const prefix = `diff:${randomUUID()}:`;
    // The memory transport on the real clock too. (Its clock was once also moved by each pause, which counted
    // the pause twice: an item of 3 s read after one 1.5 s pause was gone from memory and still in memcached.)
    await agree(real, prefix, memoryTransport()(['127.0.0.1:11211']), prefix, ops);
  }

  it('agree on random operation sequences', async () => {
    await fc.assert(fc.asyncProperty(sequence({ wire: false, withPauses: false }), compare), {
      numRuns: 150,
    });
  }, 60_000);

  it('agree on an item before and after its lifetime, pause by pause', async () => {
    const set = (key: number, exptime: number): Op => ({ op: 'set', key, value: 'v', flags: 0, exptime });
    const get = (key: number): Op => ({ op: 'get', key });
    const pause: Op = { op: 'pause' };
    await compare([set(0, 2), set(1, 5), get(0), get(1), pause, get(0), get(1), pause, get(1)]);
  }, 30_000);

  it('agree on expiry across pauses', async () => {
    await fc.assert(fc.asyncProperty(sequence({ wire: false, withPauses: true }), compare), {
      numRuns: 4,
      // Shrinking through 2.5 s pauses would outlast the timeout: report the sequence as found.
      endOnFailure: true,
    });
  }, 60_000);
});

describe.each([
  ['meta commands', {}],
  ['classic commands (proxy: true)', { proxy: true }],
] as const)('memjs transport vs meta transport (%s) on the same memcached', (_, options) => {
  // Through a proxy, flush_all cannot be sent: the sequences' flushes are refused with a warning, once.
  if ('proxy' in options) expectWarnings('LOVELY_MEMCACHED');
  let server: RunningMemcached;
  let memjs: Transport;
  let meta: Transport;
  beforeAll(async () => {
    server = await startMemcached();
    memjs = memjsTransport({ timeout: DEADLINE_MS })(server.servers);
    meta = metaTransport({ ...options, timeout: DEADLINE_MS })(server.servers);
  });
  afterAll(async () => {
    await Promise.all([memjs.close(), meta.close()]);
    await server.stop();
  });

  async function compare(ops: Op[]): Promise<void> {
    const run = randomUUID();
    await agree(memjs, `diff:${run}:a:`, meta, `diff:${run}:b:`, ops);
  }

  it('agree on random operation sequences', async () => {
    await fc.assert(fc.asyncProperty(sequence({ wire: true, withPauses: false }), compare), { numRuns: 150 });
  }, 60_000);

  it('agree on expiry across pauses', async () => {
    await fc.assert(fc.asyncProperty(sequence({ wire: true, withPauses: true }), compare), {
      numRuns: 3,
      endOnFailure: true,
    });
  }, 60_000);
});
