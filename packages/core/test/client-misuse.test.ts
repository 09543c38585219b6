/**
 * Misuse of MemcachedClient from plain JavaScript (issues #16.8, #17.2, #17.3, #17.5): every option is checked
 * when the client is made and the error names the option and the value; a transport factory passed without
 * calling it is refused with what to write; use after close is refused; and the public types say what the
 * runtime does (checked by `tsc`, which includes this file).
 */
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  MemcachedClient,
  type MemcachedClientOptions,
  type QueryOptions,
  type Storable,
  type Transport,
  type TransportFactory,
} from '../src';
import { thrown } from './support/thrown';

const transport = memoryTransport();

describe('client options are checked when the client is made, naming the option and the value', () => {
  it.each([
    ['defaultLifetime', Number.NaN, 'ERR_INVALID_LIFETIME', 'NaN'],
    ['defaultLifetime', -5, 'ERR_INVALID_LIFETIME', '-5'],
    ['defaultLifetime', Number.POSITIVE_INFINITY, 'ERR_INVALID_LIFETIME', 'Infinity'],
    // What `Number(process.env.X)` is not: a string straight from the environment.
    ['defaultLifetime', '60', 'ERR_INVALID_LIFETIME', '"60"'],
    ['defaultNS', 5, 'ERR_INVALID_OPTION', '5'],
    ['defaultNS', { name: 'x' }, 'ERR_INVALID_OPTION', '{"name":"x"}'],
    ['trackKeys', 'yes', 'ERR_INVALID_OPTION', '"yes"'],
    ['trackKeys', 1, 'ERR_INVALID_OPTION', '1'],
    ['now', 5, 'ERR_INVALID_OPTION', '5'],
  ])('%s: %o → %s', (option, value, code, shown) => {
    const error = thrown(() => new MemcachedClient({ transport, [option]: value } as MemcachedClientOptions));
    expect(error.code).toBe(code);
    expect(error.message).toContain(`\`${option}\``);
    expect(error.message).toContain(shown);
    expect(error.context).toMatchObject({ option, value });
  });

  it('accepts every documented value', () => {
    for (const options of [
      { defaultLifetime: 0 },
      { defaultLifetime: 0.5 },
      { defaultLifetime: 60 * 60 * 24 * 365 },
      { defaultNS: 'site' },
      { defaultNS: null },
      { trackKeys: true },
      { now: () => 0 },
    ]) {
      expect(() => new MemcachedClient({ transport, ...options })).not.toThrow();
    }
  });
});

describe('a transport factory passed without calling it (#17.3)', () => {
  it.each([
    ['memjsTransport', memjsTransport],
    ['memoryTransport', memoryTransport],
  ])('transport: %s is refused at once, saying to call it', (_, factoryMaker) => {
    const error = thrown(
      () => new MemcachedClient({ transport: factoryMaker as unknown as TransportFactory }),
    );
    expect(error.code).toBe('ERR_NO_TRANSPORT');
    expect(error.message).toContain('`transport: memjsTransport()`');
  });

  it('a factory that returns a promise is refused, not awaited by accident', () => {
    const asyncFactory = (async (servers: readonly string[]) => memoryTransport()(servers)) as never;
    const error = thrown(() => new MemcachedClient({ transport: asyncFactory }));
    expect(error.code).toBe('ERR_NO_TRANSPORT');
    expect(error.message).toMatch(/promise/i);
  });

  it('a transport of another specification version is refused, naming both versions', () => {
    const other = (servers: readonly string[]) => ({
      ...memoryTransport()(servers),
      specificationVersion: 'v2',
    });
    const error = thrown(() => new MemcachedClient({ transport: other as never }));
    expect(error.code).toBe('ERR_NO_TRANSPORT');
    expect(error.message).toContain('v1');
    expect(error.message).toContain('"v2"');
  });
});

describe('close (#16.8)', () => {
  it('a second close waits for the first one to finish closing the transport', async () => {
    let finishClosing: () => void = () => {};
    let closes = 0;
    const slowClose: TransportFactory = (servers) => {
      const inner = memoryTransport()(servers);
      return Object.assign(Object.create(inner) as Transport, {
        close: () => {
          closes++;
          return new Promise<void>((resolve) => {
            finishClosing = resolve;
          });
        },
      });
    };
    const client = new MemcachedClient({ transport: slowClose });
    const settled: string[] = [];
    const first = client.close().then(() => settled.push('first'));
    const second = client.close().then(() => settled.push('second'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toEqual([]);
    finishClosing();
    await Promise.all([first, second]);
    expect(settled.sort()).toEqual(['first', 'second']);
    expect(closes).toBe(1);
  });

  it('assigning servers after close throws ERR_CLIENT_CLOSED and connects nothing', async () => {
    let connections = 0;
    const counting: TransportFactory = (servers) => {
      connections++;
      return memoryTransport()(servers);
    };
    const client = new MemcachedClient({ transport: counting });
    await client.close();
    expect(() => {
      client.servers = '127.0.0.1:11212';
    }).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_CLOSED' }));
    expect(connections).toBe(1);
    expect(client.servers).toEqual(['127.0.0.1:11211']);
  });
});

describe('public types (#17.5)', () => {
  it('QueryOptions needs no type argument, and a default types the result', async () => {
    const options: QueryOptions = { ns: 'site' };
    expectTypeOf(options.default).toEqualTypeOf<unknown>();
    const client = new MemcachedClient({ transport });
    expectTypeOf(client.query('k', { default: 0 })).resolves.toEqualTypeOf<number>();
    expectTypeOf(client.query<string[]>('k', { default: [] })).resolves.toEqualTypeOf<string[]>();
    expectTypeOf(client.query('k', options)).resolves.toEqualTypeOf<unknown>();
    expectTypeOf(client.query<number>('k', { ns: 'site' })).resolves.toEqualTypeOf<number | undefined>();
    await expect(client.query('k', { default: 0 })).resolves.toBe(0);
    await client.close();
  });

  it('Storable<V> is exported: anything but undefined', () => {
    expectTypeOf<Storable<string | undefined>>().toEqualTypeOf<string>();
    expectTypeOf<Storable<undefined>>().toBeNever();
    expectTypeOf<Storable<unknown>>().toEqualTypeOf<unknown>();
  });

  it('set takes unknown values and refuses undefined where the type says so', async () => {
    const client = new MemcachedClient({ transport });
    const parsed: unknown = JSON.parse('[1]');
    await expect(client.set('k', parsed)).resolves.not.toBeNull();
    await expect(client.set('k', { nested: [1, 'two', null] })).resolves.not.toBeNull();
    // @ts-expect-error `undefined` is never storable
    await expect(client.set('k', undefined)).rejects.toMatchObject({ code: 'ERR_NOT_SERIALIZABLE' });
    await client.close();
  });

  it('servers takes a string or an array, in the options and the setter', () => {
    expectTypeOf<MemcachedClientOptions['servers']>().toEqualTypeOf<string | readonly string[] | undefined>();
    const client = new MemcachedClient({ transport, servers: '127.0.0.1:11211,127.0.0.1:11212' });
    client.servers = ['127.0.0.1:11213'];
    client.servers = '127.0.0.1:11214';
    expect(client.servers).toEqual(['127.0.0.1:11214']);
  });
});
