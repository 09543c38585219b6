import { randomBytes } from 'node:crypto';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { recording } from '../../../test/support/recording-transport';
import { MemcachedClient } from '../src/client';
import { CacheError, InvalidValueError } from '../src/errors';
import type { TransportFactory } from '../src/transport';

const servers = ['127.0.0.1:11211'];

function setup(factory: TransportFactory = memoryTransport(), options = {}) {
  const rec = recording(factory);
  const client = new MemcachedClient({ transport: rec.factory, servers, ...options });
  const writes = () => rec.calls.filter((c) => ['set', 'add', 'append', 'cas'].includes(c.method));
  return { client, calls: rec.calls, writes };
}

describe('MemcachedClient construction', () => {
  it('requires a transport and names both', () => {
    expect(() => new MemcachedClient({} as never)).toThrow(CacheError);
    expect(() => new MemcachedClient({} as never)).toThrow(
      /metaTransport\(\).*memjsTransport\(\).*memoryTransport\(\)/,
    );
    expect(() => new MemcachedClient({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_NO_TRANSPORT' }),
    );
  });

  it('rejects a bad default lifetime, namespace or server list up front', () => {
    const transport = memoryTransport();
    expect(() => new MemcachedClient({ transport, defaultLifetime: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_LIFETIME' }),
    );
    // An option, not a key: ERR_INVALID_OPTION naming `defaultNS` (a per-call `ns` stays ERR_INVALID_KEY).
    expect(() => new MemcachedClient({ transport, defaultNS: 1 as never })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('`defaultNS`'),
      }),
    );
    expect(() => new MemcachedClient({ transport, servers: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });

  it('gives every client its own UUID-like uid', () => {
    const transport = memoryTransport();
    const uids = new Set(Array.from({ length: 5 }, () => new MemcachedClient({ transport }).uid));
    expect(uids.size).toBe(5);
    for (const uid of uids)
      expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});

describe('bad input stores nothing', () => {
  it.each([
    ['an undefined value', 'k', undefined, {}],
    ['a nested function', 'k', { a: [() => 1] }, {}],
    ['a symbol value', 'k', Symbol('s'), {}],
    ['a function key', () => 1, 'v', {}],
    ['a symbol key', Symbol('k'), 'v', {}],
    ['a non-string raw value', 'k', 42, { raw: true }],
    ['a raw key with a space', 'a b', 'v', { raw: true }],
    ['a negative lifetime', 'k', 'v', { lifetime: -1 }],
    ['a NaN lifetime', 'k', 'v', { lifetime: Number.NaN }],
    ['an infinite lifetime', 'k', 'v', { lifetime: Number.POSITIVE_INFINITY }],
    ['a lifetime past 2106', 'k', 'v', { lifetime: 2 ** 32 }],
    ['a bad dependency', 'k', 'v', { dependencies: [() => 1] }],
    // Random bytes: a value that does not compress under the limit (a repeated letter would).
    ['a value over the item limit', 'k', randomBytes(1024 * 1024 + 1), {}],
    ['a raw value over the item limit', 'k', Buffer.alloc(1024 * 1024 + 1), { raw: true }],
  ])('%s rejects with a CacheError and writes nothing', async (_, key, value, options) => {
    const { client, writes } = setup();
    await expect(client.set(key as never, value as unknown, options)).rejects.toBeInstanceOf(CacheError);
    expect(writes()).toEqual([]);
    // ...and the client keeps working.
    expect(await client.set('fine', 'value')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses exactly what memcached would: key + value + 59 bytes must fit the item limit', async () => {
    const { client, writes } = setup();
    const fits = 1024 * 1024 - 59 - 'k'.length;
    expect(await client.set('k', new Uint8Array(fits), { raw: true })).toBe('k');
    const before = writes().length;
    await expect(client.set('k', new Uint8Array(fits + 1), { raw: true })).rejects.toMatchObject({
      code: 'ERR_VALUE_TOO_LARGE',
    });
    expect(writes().length).toBe(before);
  });

  it('uses the documented codes', async () => {
    const { client } = setup();
    // @ts-expect-error `undefined` cannot be stored, and the types say so; plain JavaScript gets the error.
    await expect(client.set('k', undefined)).rejects.toMatchObject({ code: 'ERR_NOT_SERIALIZABLE' });
    await expect(client.set('k', 1, { raw: true })).rejects.toMatchObject({ code: 'ERR_INVALID_VALUE' });
    await expect(client.set('k', randomBytes(2 * 1024 * 1024))).rejects.toBeInstanceOf(InvalidValueError);
    await expect(client.set('k', randomBytes(2 * 1024 * 1024))).rejects.toMatchObject({
      code: 'ERR_VALUE_TOO_LARGE',
    });
    await expect(client.query(undefined as never)).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
  });
});

describe('values and keys', () => {
  it('round-trip structured values under structured keys', async () => {
    const { client } = setup();
    const value = {
      when: new Date(0),
      tags: new Set(['a']),
      counts: new Map([['x', 1n]]),
      bytes: new Uint8Array([1]),
    };
    await client.set({ user: 42, page: ['a', 1] }, value);
    expect(await client.query({ page: ['a', 1], user: 42 })).toEqual(value);
    expect(await client.query({ page: ['a', 1], user: '42' })).toBeUndefined();
  });

  it('gives the default on a miss', async () => {
    const { client } = setup();
    expect(await client.query('missing', { default: 'fallback' })).toBe('fallback');
  });

  it('reads foreign bytes under a hashed key as a miss, and as text when raw', async () => {
    const memory = memoryTransport();
    const { client } = setup(memory);
    const key = (await client.set('k', 'ours')) as string;
    const foreign = memory(servers);
    await foreign.set(key, Buffer.from('garbage'), { flags: 0 });
    expect(await client.query('k')).toBeUndefined();
    await foreign.set('plain', Buffer.from('from another client'), { flags: 0 });
    expect(await client.query('plain', { raw: true })).toBe('from another client');
  });

  it('stores raw strings as plain bytes any client can read, raw bytes as bytes', async () => {
    const memory = memoryTransport();
    const { client } = setup(memory);
    await client.set('greeting', 'hello', { raw: true, ns: 'app:' });
    const item = await memory(servers).get('app:greeting');
    expect(Buffer.from(item?.value ?? []).toString()).toBe('hello');
    expect(item?.flags).toBe(0);
    await client.set('blob', new Uint8Array([1, 2, 3]), { raw: true });
    const blob = await client.query('blob', { raw: true });
    expect(blob).toBeInstanceOf(Uint8Array);
    expect([...(blob as Uint8Array)]).toEqual([1, 2, 3]);
  });

  it('sends lifetimes over 30 days as absolute times, read by the server clock', async () => {
    let now = Date.UTC(2026, 0, 1);
    const clock = () => now;
    const client = new MemcachedClient({ transport: memoryTransport({ now: clock }), servers, now: clock });
    await client.set('long', 'v', { lifetime: 40 * 24 * 3600 });
    now += 39 * 24 * 3600 * 1000;
    expect(await client.query('long')).toBe('v');
    now += 2 * 24 * 3600 * 1000;
    expect(await client.query('long')).toBeUndefined();
  });
});

describe('batching', () => {
  it('coalesces queries of the same turn into one multi-get, and sends a lone query alone', async () => {
    const { client, calls } = setup();
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.set(i, i)));
    calls.length = 0;
    const values = await Promise.all(Array.from({ length: 10 }, (_, i) => client.query(i)));
    expect(values).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(calls.map((c) => c.method)).toEqual(['getMulti']);
    expect(calls[0]?.keys).toHaveLength(10);
    calls.length = 0;
    expect(await client.query(3)).toBe(3);
    expect(calls.map((c) => c.method)).toEqual(['get']);
  });

  it('after a lone read, sends the next lone read at once; a burst after it goes back to one multi-get', async () => {
    const { client, calls } = setup();
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.set(i, i)));
    expect(await client.query(1)).toBe(1); // a batch of one: the client now reads like a lone caller
    calls.length = 0;
    const lone = client.query(2);
    // Already on its way when query() returns, before any microtask turn (the batch would still be waiting).
    expect(calls.map((c) => c.method)).toEqual(['get']);
    expect(await lone).toBe(2);
    calls.length = 0;
    // The first of a burst still leaves alone; the rest of its turn is one multi-get.
    const burst = Array.from({ length: 10 }, (_, i) => client.query(i));
    expect(await Promise.all(burst)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(calls.map((c) => [c.method, c.keys?.length ?? 1])).toEqual([
      ['get', 1],
      ['getMulti', 9],
    ]);
    calls.length = 0;
    // That burst was larger than one: the next one waits for its turn to end, and is one multi-get again.
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.query(i)));
    expect(calls.map((c) => c.method)).toEqual(['getMulti']);
  });

  it('checks the dependency tokens of concurrent queries in one more multi-get', async () => {
    const memory = memoryTransport();
    const writer = setup(memory).client;
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => writer.set(i, i, { dependencies: ['d1', 'd2', 'd3'] })),
    );
    const { client, calls } = setup(memory); // a client that has not seen these entries yet
    expect(await Promise.all(Array.from({ length: 8 }, (_, i) => client.query(i)))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(calls.map((c) => c.method)).toEqual(['getMulti', 'getMulti']);
    expect(calls[1]?.keys).toHaveLength(3);
  });

  it('fetches the tokens with the entries once it knows them: one round trip', async () => {
    const { client, calls } = setup();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.set(i, i, { dependencies: ['d1', 'd2', 'd3'] })),
    );
    calls.length = 0;
    expect(await Promise.all(Array.from({ length: 8 }, (_, i) => client.query(i)))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(calls.map((c) => c.method)).toEqual(['getMulti']);
    expect(calls[0]?.keys).toHaveLength(11);
    calls.length = 0;
    expect(await client.query(3)).toBe(3);
    expect(calls.map((c) => c.method)).toEqual(['getMulti']);
  });

  it('still sees an invalidation made by another client when it prefetches tokens', async () => {
    const memory = memoryTransport();
    const reader = setup(memory).client;
    const other = setup(memory).client;
    await reader.set('k', 'v', { dependencies: ['d'] });
    expect(await reader.query('k')).toBe('v');
    await other.invalidate(undefined, { dependencies: ['d'] });
    expect(await reader.query('k')).toBeUndefined();
    await other.set('k', 'v2', { dependencies: ['d', 'e'] });
    expect(await reader.query('k')).toBe('v2');
    await other.invalidate(undefined, { dependencies: ['e'] });
    expect(await reader.query('k')).toBeUndefined();
  });
});

describe('servers', () => {
  it('reconnects when assigned, closing the old transport', async () => {
    const { client, calls } = setup();
    client.servers = ['127.0.0.1:22122'];
    expect(client.servers).toEqual(['127.0.0.1:22122']);
    expect(calls.some((c) => c.method === 'close')).toBe(true);
    expect(() => {
      client.servers = ['not a server:x'];
    }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(client.servers).toEqual(['127.0.0.1:22122']);
  });
});
