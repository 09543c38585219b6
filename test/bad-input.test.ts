import { randomBytes } from 'node:crypto';
/**
 * Bad input, generated: each kind rejects with its CacheError code, stores nothing, and the client works
 * afterwards. Plus the edges that must NOT be rejected: fractional lifetimes, circular values, foreign bytes.
 */
import { CacheError, InvalidKeyError, MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recording } from './support/recording-transport';

const servers = ['127.0.0.1:11211'];

function setup() {
  let now = Date.UTC(2026, 0, 1);
  const memory = memoryTransport({ now: () => now });
  const rec = recording(memory);
  const client = new MemcachedClient({ transport: rec.factory, servers, now: () => now, trackKeys: true });
  const writes = () =>
    rec.calls.filter((c) => ['set', 'add', 'append', 'cas', 'delete'].includes(c.method)).length;
  return { client, memory, writes, advance: (ms: number) => (now += ms) };
}

async function rejectsWithNoWrite(attempt: () => Promise<unknown>, code: string) {
  const { client, writes } = setup();
  await expect(attempt.call(null)).rejects.toMatchObject({ code });
  return { client, writes };
}

const badChar = fc.constantFrom(' ', '\r', '\n', '\t', '\u0000', '\u0001', '\u007f', 'é', '€', '😀');
const badRawKey = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), badChar, fc.string({ maxLength: 20 })).map(([a, c, b]) => a + c + b),
  fc.constant(''),
  fc.integer({ min: 251, max: 400 }).map((n) => 'k'.repeat(n)),
);
const notAKey = fc.oneof(
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
  fc.constant(undefined),
  fc.constant(new Date(0)),
  fc.constant(1n),
);
const poison = fc.constantFrom(undefined, () => 1, Symbol('s'));
/** A plain value with something unstorable buried at a random depth. */
const poisoned = fc
  .tuple(poison, fc.array(fc.constantFrom('array', 'object', 'map', 'set'), { maxLength: 4 }))
  .map(([bad, path]) =>
    path.reduce<unknown>((inner, kind) => {
      if (kind === 'array') return [1, inner];
      if (kind === 'object') return { ok: 1, nested: inner };
      if (kind === 'map') return new Map([['k', inner]]);
      return new Set([inner]);
    }, bad),
  );

describe('bad input gets a typed error and stores nothing', () => {
  it('raw keys with whitespace, control or non-ASCII characters, empty or over 250 bytes', async () => {
    await fc.assert(
      // The namespace is prepended, so an empty key with a namespace is a fine raw key: empty only without one.
      fc.asyncProperty(badRawKey, fc.constantFrom(null, 'NS_'), async (key, prefix) => {
        const ns = key === '' ? null : prefix;
        const { client, writes } = setup();
        const attempt = client.set(key, 'v', { raw: true, ns });
        await expect(attempt).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(client.set(key, 'v', { raw: true, ns })).rejects.toThrow(/invalid raw key/);
        expect(writes()).toBe(0);
        expect(await client.set('fine', 'v', { raw: true })).toBe('fine');
      }),
      { numRuns: 200 },
    );
  });

  it('namespaces that are not strings in raw mode', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.integer(), fc.boolean(), fc.object()), async (ns) => {
        const { client, writes } = await rejectsWithNoWrite(
          () => setup().client.set('k', 'v', { raw: true, ns: ns as unknown as string }),
          'ERR_INVALID_KEY',
        );
        await expect(client.set('k', 'v', { raw: true, ns: ns as unknown as string })).rejects.toBeInstanceOf(
          InvalidKeyError,
        );
        expect(writes()).toBe(0);
      }),
    );
  });

  it('keys that are functions, symbols, undefined, class instances or bigints, also nested', async () => {
    await fc.assert(
      fc.asyncProperty(notAKey, fc.constantFrom('bare', 'array', 'object'), async (bad, where) => {
        const key = where === 'bare' ? bad : where === 'array' ? ['ok', bad] : { ok: 1, bad };
        const { client, writes } = setup();
        await expect(client.set(key as never, 'v')).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
        await expect(client.query(key as never)).rejects.toBeInstanceOf(InvalidKeyError);
        // invalidate(undefined) means "no key" (only dependencies), so it is no error there.
        if (key !== undefined)
          await expect(client.invalidate(key as never)).rejects.toBeInstanceOf(InvalidKeyError);
        expect(writes()).toBe(0);
        expect(await client.set('fine', 1)).not.toBeNull();
      }),
    );
  });

  it('values holding undefined, functions or symbols at any depth', async () => {
    await fc.assert(
      fc.asyncProperty(poisoned, async (value) => {
        const { client, writes } = setup();
        await expect(client.set('k', value)).rejects.toMatchObject({ code: 'ERR_NOT_SERIALIZABLE' });
        expect(writes()).toBe(0);
        expect(await client.query('k')).toBeUndefined();
        expect(await client.set('k', 'fine')).not.toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('values larger than the item limit, structured or raw', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1024 * 1024 - 40, max: 3 * 1024 * 1024 }),
        fc.boolean(),
        async (size, raw) => {
          const { client, writes } = setup();
          // Random bytes: structured values over the limit that do not compress under it.
          const value = raw ? new Uint8Array(size) : randomBytes(size);
          await expect(client.set('k', value, { raw })).rejects.toMatchObject({
            code: 'ERR_VALUE_TOO_LARGE',
          });
          expect(writes()).toBe(0);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('lifetimes negative, NaN, infinite, or past what memcached can represent', async () => {
    const badLifetime = fc.oneof(
      fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      fc.double({ min: 2 ** 32, max: 1e300, noNaN: true, noDefaultInfinity: true }),
    );
    await fc.assert(
      fc.asyncProperty(badLifetime, async (lifetime) => {
        const { client, writes } = setup();
        const attempt = client.set('k', 'v', { lifetime });
        await expect(attempt).rejects.toBeInstanceOf(CacheError);
        await expect(client.set('k', 'v', { lifetime })).rejects.toMatchObject({
          code: 'ERR_INVALID_LIFETIME',
        });
        expect(writes()).toBe(0);
        expect(await client.set('k', 'v', { lifetime: 1 })).not.toBeNull();
      }),
      { numRuns: 200 },
    );
  });
});

describe('edges that are not errors', () => {
  it('fractional lifetimes round up: a 0.2 s entry lives, then expires (it does not live forever)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0.001, max: 5, noNaN: true }), async (lifetime) => {
        const { client, advance } = setup();
        await client.set('k', 'v', { lifetime });
        expect(await client.query('k')).toBe('v');
        advance(Math.ceil(lifetime) * 1000 + 1);
        expect(await client.query('k')).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });

  it('circular values round-trip', async () => {
    const { client } = setup();
    const value: Record<string, unknown> = { name: 'loop', list: [] };
    value.self = value;
    (value.list as unknown[]).push(value, new Map([['back', value]]));
    await client.set('circular', value);
    const back = (await client.query('circular')) as typeof value;
    expect(back.self).toBe(back);
    expect((back.list as unknown[])[0]).toBe(back);
    expect(((back.list as unknown[])[1] as Map<string, unknown>).get('back')).toBe(back);
  });

  it('bytes another client wrote under our keys (garbage, wrong flags) read as a miss', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.nat(), async (bytes, flags) => {
        const { client, memory } = setup();
        const key = (await client.set('k', { ours: true }, { dependencies: ['d'] })) as string;
        await memory(servers).set(key, bytes, { flags });
        const found = await client.query('k');
        // Either a miss, or (vanishingly rare) bytes that happen to be a valid entry of ours: never a crash.
        expect(found === undefined || typeof found === 'object' || typeof found !== 'function').toBe(true);
        if (flags >>> 16 !== 0x4c4d) expect(found).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});
