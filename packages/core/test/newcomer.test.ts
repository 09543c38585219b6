/**
 * What a newcomer gets wrong from plain JavaScript (issue #17): options checked when the client is made, a
 * transport factory passed without calling it, servers as one string, and the types of `query` and `set`.
 */
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { thrown } from './support/thrown';

const transport = memoryTransport();

describe('client options are checked when the client is made', () => {
  it.each([
    [{ defaultLifetime: Number.NaN }, 'ERR_INVALID_LIFETIME', 'NaN'],
    [{ defaultLifetime: -5 }, 'ERR_INVALID_LIFETIME', '-5'],
    [{ trackKeys: 'yes' }, 'ERR_INVALID_OPTION', '`trackKeys`'],
    [{ now: 5 }, 'ERR_INVALID_OPTION', '`now`'],
    [{ defaultNS: 5 }, 'ERR_INVALID_OPTION', '`defaultNS`'],
    [{ servers: [] }, 'ERR_INVALID_OPTION', '`servers`'],
    [{ servers: 42 }, 'ERR_INVALID_OPTION', '`servers`'],
    [{ servers: ['127.0.0.1:11211', 7] }, 'ERR_INVALID_OPTION', '`servers`'],
  ])('%o → %s naming it', (options, code, named) => {
    const error = thrown(() => new MemcachedClient({ transport, ...(options as object) }));
    expect(error.code).toBe(code);
    expect(error.message).toContain(named);
  });

  it('accepts servers as one comma-separated string, like MEMCACHED_SERVERS', async () => {
    const client = new MemcachedClient({ transport, servers: '127.0.0.1:11211, 127.0.0.1:11212' });
    expect(client.servers).toEqual(['127.0.0.1:11211', '127.0.0.1:11212']);
    client.servers = '127.0.0.1:11213';
    expect(client.servers).toEqual(['127.0.0.1:11213']);
    expect(await client.set('k', 1)).not.toBeNull();
    await client.close();
  });
});

describe('a transport factory passed without calling it', () => {
  it('is refused at once, saying what to write instead', () => {
    // What `transport: memjsTransport` (not called) amounts to: a function that returns a factory.
    const uncalled = (() => memoryTransport()) as never;
    const error = thrown(() => new MemcachedClient({ transport: uncalled }));
    expect(error.code).toBe('ERR_NO_TRANSPORT');
    expect(error.message).toContain('memjsTransport()');
    expect(error.message).toContain('not `transport: memjsTransport`');
  });

  it('refuses something that is not a transport of this specification', () => {
    const error = thrown(() => new MemcachedClient({ transport: (() => ({ get() {} })) as never }));
    expect(error.code).toBe('ERR_NO_TRANSPORT');
    expect(error.message).toMatch(/specification v1.*missing set/);
  });
});

describe('types', () => {
  it('a query with a default is typed by it; without, it may be undefined', async () => {
    const client = new MemcachedClient({ transport });
    expectTypeOf(client.query('k', { default: 'x' })).resolves.toEqualTypeOf<string>();
    expectTypeOf(client.query<number>('k')).resolves.toEqualTypeOf<number | undefined>();
    expectTypeOf(client.query('k')).resolves.toEqualTypeOf<unknown>();
    await expect(client.query('k', { default: 'x' })).resolves.toBe('x');
    await client.close();
  });

  it('set refuses undefined at compile time where the type allows it, and takes unknown values', async () => {
    const client = new MemcachedClient({ transport });
    const fromJson: unknown = JSON.parse('{"a":1}');
    await client.set('k', fromJson);
    const maybe = Math.random() > 2 ? 'x' : undefined;
    // @ts-expect-error a value that may be undefined cannot be stored
    await expect(client.set('k', maybe)).rejects.toMatchObject({ code: 'ERR_NOT_SERIALIZABLE' });
    await client.close();
  });
});
