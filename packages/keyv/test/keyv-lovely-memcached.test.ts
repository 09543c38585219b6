import { CacheError, MemcachedClient, type Transport, type TransportFactory } from '@lovely-memcached/core';
import { chaosTransport } from '@lovely-memcached/testing';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import Keyv from 'keyv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyvLovelyMemcached } from '../src';

const SERVER = '127.0.0.1:11211'; // the client's default; the memory transport only uses it as a name

const clients: MemcachedClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  vi.restoreAllMocks();
});

function clientOf(transport: TransportFactory, options: { defaultNS?: string } = {}): MemcachedClient {
  const client = new MemcachedClient({ transport, ...options });
  clients.push(client);
  return client;
}

/** The transport's calls per method, to count round trips. */
function counted(inner: TransportFactory): TransportFactory & { calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const factory = ((servers: readonly string[]) => {
    const transport = inner(servers);
    return new Proxy(transport, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return (...args: unknown[]) => {
          calls[property] = (calls[property] ?? 0) + 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Transport;
  }) as TransportFactory & { calls: Record<string, number> };
  factory.calls = calls;
  return factory;
}

/** Longer than the moment a client reuses a namespace token it read for its writes (100-150 ms). */
const TOKEN_REUSE_SLACK_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function errorsOf(keyv: Keyv): unknown[] {
  const errors: unknown[] = [];
  keyv.on('error', (error) => errors.push(error));
  return errors;
}

describe('clear() and namespaces', () => {
  it('a clear() from another process is seen by the next read of every process', async () => {
    const servers = memoryTransport();
    const here = new Keyv({ store: new KeyvLovelyMemcached(clientOf(servers)), namespace: 'pages' });
    const there = new Keyv({ store: new KeyvLovelyMemcached(clientOf(servers)), namespace: 'pages' });
    await here.set('a', 1);
    expect(await there.get('a')).toBe(1);
    await here.clear();
    expect(await there.get('a')).toBeUndefined();
    expect(await there.has('a')).toBe(false);
    await there.set('a', 2); // written under the new generation, readable by both
    expect(await here.get('a')).toBe(2);
  });

  it('a write racing a clear() from another process is a miss or the new value, never the cleared one', async () => {
    const servers = memoryTransport();
    const here = new KeyvLovelyMemcached(clientOf(servers));
    const there = new KeyvLovelyMemcached(clientOf(servers));
    await there.set('k', 'before the clear'); // `there` now holds the namespace's token for a moment
    await here.clear();
    // A write stamped with the token just deleted is dead on arrival (the client's documented trade-off for not
    // reading the token on every write): lost, never served.
    await there.set('k', 'right after the clear');
    expect([undefined, 'right after the clear']).toContain(await here.get('k'));
    await sleep(TOKEN_REUSE_SLACK_MS);
    await there.set('k', 'later');
    expect(await here.get('k')).toBe('later');
  });

  it('clears only its namespace: other namespaces and keys set through the client stay', async () => {
    const client = clientOf(memoryTransport());
    const users = new Keyv({ store: new KeyvLovelyMemcached(client), namespace: 'users' });
    const pages = new Keyv({ store: new KeyvLovelyMemcached(client), namespace: 'pages' });
    const plain = new Keyv({ store: new KeyvLovelyMemcached(client), namespace: '' }); // no namespace
    await Promise.all([users.set('1', 'ada'), pages.set('1', '<h1>'), plain.set('1', 'plain')]);
    await client.set('outside', 'kept');
    await client.set('outside', 'kept too', { ns: 'users' });
    await users.clear();
    expect(await users.get('1')).toBeUndefined();
    expect(await pages.get('1')).toBe('<h1>');
    expect(await plain.get('1')).toBe('plain');
    expect(await client.query('outside')).toBe('kept');
    expect(await client.query('outside', { ns: 'users' })).toBe('kept too');
    await plain.clear();
    expect(await plain.get('1')).toBeUndefined();
    expect(await pages.get('1')).toBe('<h1>');
  });

  it("the client's defaultNS keeps apart two applications' Keyv namespaces of the same name", async () => {
    const servers = memoryTransport();
    const shop = new Keyv({ store: new KeyvLovelyMemcached(clientOf(servers, { defaultNS: 'shop' })) });
    const blog = new Keyv({ store: new KeyvLovelyMemcached(clientOf(servers, { defaultNS: 'blog' })) });
    await shop.set('home', 'shop home');
    await blog.set('home', 'blog home');
    await shop.clear(); // both use Keyv's default namespace, 'keyv'
    expect(await shop.get('home')).toBeUndefined();
    expect(await blog.get('home')).toBe('blog home');
  });

  it("processes writing to a new namespace at once all read one another's entries", async () => {
    const servers = memoryTransport();
    const stores = [0, 1, 2, 3].map(() => new Keyv({ store: new KeyvLovelyMemcached(clientOf(servers)) }));
    await Promise.all(stores.map((keyv, i) => keyv.set(`k${i}`, i)));
    for (const keyv of stores) {
      expect(await keyv.get(['k0', 'k1', 'k2', 'k3'])).toEqual([0, 1, 2, 3]);
    }
  });

  it('after a flush the namespace starts again empty, and every process writes where the others read', async () => {
    const servers = memoryTransport();
    const client = clientOf(servers);
    const here = new Keyv({ store: new KeyvLovelyMemcached(client) });
    const there = new Keyv({ store: new KeyvLovelyMemcached(clientOf(servers)) });
    await here.set('a', 1);
    expect(await there.get('a')).toBe(1);
    await clientOf(servers).invalidateAll(); // another process flushes the servers
    expect(await here.get('a')).toBeUndefined();
    await sleep(TOKEN_REUSE_SLACK_MS); // writes stamped with a flushed token are lost for that moment
    await here.set('b', 2);
    await there.set('c', 3);
    expect(await there.get(['b', 'c'])).toEqual([2, 3]);
    expect(await here.get(['b', 'c'])).toEqual([2, 3]);
  });

  it('a clear() while the server is unreachable resolves quietly, like the client it stands on', async () => {
    const servers = memoryTransport();
    const keyv = new Keyv({ store: new KeyvLovelyMemcached(clientOf(servers)) });
    const errors = errorsOf(keyv);
    await keyv.set('a', 1);
    servers.down(SERVER);
    await expect(keyv.clear()).resolves.toBeUndefined();
    servers.up(SERVER);
    expect(errors).toEqual([]);
  });
});

describe('round trips', () => {
  it('a get is one request and getMany one multi-get', async () => {
    const transport = counted(memoryTransport());
    const keyv = new Keyv({ store: new KeyvLovelyMemcached(clientOf(transport)) });
    await keyv.set('a', 1);
    await keyv.set('b', 2);
    for (const key of Object.keys(transport.calls)) delete transport.calls[key];
    expect(await keyv.get('a')).toBe(1);
    expect(transport.calls).toEqual({ getMulti: 1 }); // the entry and its namespace's token together
    expect(await keyv.get(['a', 'b', 'missing'])).toEqual([1, 2, undefined]);
    expect(transport.calls).toEqual({ getMulti: 2 });
    expect(await keyv.has(['a', 'missing'])).toEqual([true, false]);
    expect(transport.calls).toEqual({ getMulti: 3 });
  });

  it('setMany writes every entry in one batch and says which were stored', async () => {
    const keyv = new Keyv({
      store: new KeyvLovelyMemcached(clientOf(memoryTransport({ maxItemSize: 4096 }))),
    });
    const errors = errorsOf(keyv);
    const results = await keyv.setMany([
      { key: 'a', value: 'small' },
      { key: 'b', value: 'x'.repeat(10_000) },
      { key: 'c', value: { n: 3 }, ttl: 60_000 },
    ]);
    expect(results).toEqual([true, false, true]);
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_VALUE_TOO_LARGE' })]);
    expect(await keyv.get(['a', 'b', 'c'])).toEqual(['small', undefined, { n: 3 }]);
  });
});

describe('ttl', () => {
  it('an entry lives in memcached at least its ttl, and reads as expired exactly when Keyv says', async () => {
    let now = Date.now();
    const clock = () => now;
    const store = new KeyvLovelyMemcached(clientOf(memoryTransport({ now: clock })));
    vi.spyOn(Date, 'now').mockImplementation(clock); // Keyv's own expiry check
    const keyv = new Keyv({ store });
    await keyv.set('k', 'v', 1500);
    now += 1499;
    expect(await keyv.get('k')).toBe('v');
    expect(await keyv.has('k')).toBe(true);
    now += 2;
    expect(await keyv.has('k')).toBe(false); // still in memcached: the envelope says expired
    expect(await store.get('keyv:k')).toBeDefined(); // Keyv prefixes keys with its namespace
    expect(await keyv.get('k')).toBeUndefined();
  });

  it('memcached keeps an entry one second past its ttl rounded up (its clock may tick right after a set)', async () => {
    let now = Date.now();
    const store = new KeyvLovelyMemcached(clientOf(memoryTransport({ now: () => now })));
    await store.set('k', 'v', 1000);
    now += 1999;
    expect(await store.get('k')).toBe('v');
    now += 1;
    expect(await store.get('k')).toBeUndefined();
  });

  it('no ttl means no expiry, whatever defaultLifetime the client has', async () => {
    let now = Date.now();
    const client = new MemcachedClient({
      transport: memoryTransport({ now: () => now }),
      defaultLifetime: 10,
    });
    clients.push(client);
    const store = new KeyvLovelyMemcached(client);
    await store.set('k', 'v');
    now += 365 * 24 * 3600 * 1000;
    expect(await store.get('k')).toBe('v');
  });

  it('a ttl already past removes the entry', async () => {
    const store = new KeyvLovelyMemcached(clientOf(memoryTransport()));
    await store.set('k', 'v');
    expect(await store.set('k', 'w', -1)).toBe(true);
    expect(await store.get('k')).toBeUndefined();
  });
});

describe('values', () => {
  it("stores Keyv's unserialized envelopes as cache-manager makes them (serialize off, no ttl)", async () => {
    const keyv = new Keyv({ store: new KeyvLovelyMemcached(clientOf(memoryTransport())) });
    keyv.serialize = undefined;
    keyv.deserialize = undefined;
    const errors = errorsOf(keyv);
    const value = { user: 'ada', tags: ['a'], at: new Date(0), bytes: Buffer.from('hi') };
    expect(await keyv.set('k', value)).toBe(true);
    expect(await keyv.get('k')).toEqual(value);
    expect(await keyv.set('u', undefined)).toBe(true);
    expect(await keyv.get('u')).toBeUndefined();
    expect(await keyv.has('k')).toBe(true);
    expect(errors).toEqual([]);
  });
});

describe('values that cannot be stored', () => {
  it('with serialization off, a value holding a function is an ERR_NOT_SERIALIZABLE event, and not stored', async () => {
    const keyv = new Keyv({ store: new KeyvLovelyMemcached(clientOf(memoryTransport())) });
    keyv.serialize = undefined;
    keyv.deserialize = undefined;
    const errors = errorsOf(keyv);
    expect(await keyv.set('k', { render: () => 'html' })).toBe(false);
    expect(await keyv.get('k')).toBeUndefined();
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_NOT_SERIALIZABLE' })]);
  });
});

describe('delete', () => {
  it('says whether the key was there; deleteMany whether all were', async () => {
    const keyv = new Keyv({ store: new KeyvLovelyMemcached(clientOf(memoryTransport())) });
    await keyv.set('a', 1);
    await keyv.set('b', 2);
    expect(await keyv.delete(['a', 'missing'])).toBe(false);
    expect(await keyv.get('a')).toBeUndefined();
    expect(await keyv.delete('b')).toBe(true);
    expect(await keyv.delete('b')).toBe(false);
  });
});

describe('faults and errors', () => {
  it('an unreachable server reads as a miss and a write as not stored, with no error event', async () => {
    const servers = memoryTransport();
    const keyv = new Keyv({ store: new KeyvLovelyMemcached(clientOf(servers)) });
    const errors = errorsOf(keyv);
    await keyv.set('a', 1);
    servers.down(SERVER);
    expect(await keyv.get('a')).toBeUndefined();
    expect(await keyv.set('b', 2)).toBe(false);
    expect(await keyv.has('a')).toBe(false);
    servers.up(SERVER);
    expect(await keyv.get('a')).toBe(1);
    expect(errors).toEqual([]);
  });

  it('a transport that rejects (a bug) becomes an ERR_UNEXPECTED error event with the cause, and a miss', async () => {
    const chaos = chaosTransport(memoryTransport());
    const keyv = new Keyv({ store: new KeyvLovelyMemcached(clientOf(chaos)) });
    const errors = errorsOf(keyv);
    await keyv.set('a', 1);
    chaos.faults = { reject: 1 };
    expect(await keyv.get('a')).toBeUndefined();
    expect(await keyv.set('a', 2)).toBe(false);
    expect(await keyv.delete('a')).toBe(false);
    await keyv.clear();
    expect(errors).toHaveLength(4);
    for (const error of errors) {
      expect(error).toBeInstanceOf(CacheError);
      expect(error).toMatchObject({ code: 'ERR_UNEXPECTED', cause: expect.any(Error) });
    }
    chaos.faults = {};
    expect(await keyv.get('a')).toBe(1);
  });

  it('without an error listener a failure is a process warning, not a throw', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const chaos = chaosTransport(memoryTransport(), { reject: 1 });
    const store = new KeyvLovelyMemcached(clientOf(chaos));
    expect(await store.get('nobody-listens')).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("no 'error' listener"), expect.anything());
  });

  it('an error listener that throws does not break the call', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const chaos = chaosTransport(memoryTransport(), { reject: 1 });
    const store = new KeyvLovelyMemcached(clientOf(chaos));
    store.on('error', () => {
      throw new Error('listener bug');
    });
    expect(await store.has('k')).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("'error' listener threw"), expect.anything());
  });
});

describe('construction and disconnect', () => {
  it('made from options, it owns the client: disconnect() closes it', async () => {
    const store = new KeyvLovelyMemcached({ transport: memoryTransport(), defaultNS: 'app' });
    const keyv = new Keyv({ store });
    await keyv.set('a', 1);
    expect(await keyv.get('a')).toBe(1);
    expect(store.client.defaultNS).toBe('app');
    await keyv.disconnect();
    await expect(store.client.query('a')).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
  });

  it('given a client, disconnect() leaves it open for its owner', async () => {
    const client = clientOf(memoryTransport());
    const keyv = new Keyv({ store: new KeyvLovelyMemcached(client) });
    await keyv.disconnect();
    await client.set('still', 'open');
    expect(await client.query('still')).toBe('open');
  });

  it('takes a client made by the other (ESM or CJS) copy of core, which instanceof would not recognise', async () => {
    const client = clientOf(memoryTransport());
    // What a client from the other copy looks like from here: the same members, another class.
    const foreign = {
      servers: client.servers,
      defaultNS: client.defaultNS,
      query: client.query.bind(client),
      set: client.set.bind(client),
      getOrSet: client.getOrSet.bind(client),
      invalidate: client.invalidate.bind(client),
      close: client.close.bind(client),
    } as unknown as MemcachedClient;
    expect(foreign).not.toBeInstanceOf(MemcachedClient);
    const store = new KeyvLovelyMemcached(foreign);
    expect(store.client).toBe(foreign);
    await store.set('k', 'v');
    expect(await client.query('k')).toBeUndefined(); // stored in the Keyv namespace, not as a plain key
    expect(await store.get('k')).toBe('v');
  });

  it('options without a transport are refused with ERR_NO_TRANSPORT', () => {
    // @ts-expect-error: the transport is required
    expect(() => new KeyvLovelyMemcached({ servers: SERVER })).toThrow(
      expect.objectContaining({ code: 'ERR_NO_TRANSPORT' }),
    );
  });

  it('offers what Keyv reads from a store: opts, namespace, an error emitter; no iterator', () => {
    const store = new KeyvLovelyMemcached({ transport: memoryTransport(), servers: 'a:1,b:2' });
    const keyv = new Keyv({ store, namespace: 'ns' });
    expect(store.namespace).toBe('ns');
    expect(store.opts).toMatchObject({ dialect: 'lovely-memcached', url: 'a:1,b:2' });
    expect(keyv.iterator).toBeUndefined();
    expect('iterator' in store).toBe(false);
    return store.disconnect();
  });
});

describe('one store given to two Keyv namespaces (#23.8)', () => {
  const sharedStoreWarnings = (warn: { mock: { calls: unknown[][] } }) =>
    warn.mock.calls.filter(([message]) => String(message).includes('given to two Keyv instances'));

  it('a store per Keyv, sharing one client: no warning, and clear() of one leaves the other', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const client = clientOf(memoryTransport());
    const users = new Keyv({ store: new KeyvLovelyMemcached(client), namespace: 'users' });
    const pages = new Keyv({ store: new KeyvLovelyMemcached(client), namespace: 'pages' });
    await users.set('a', 1);
    await pages.set('a', 2);
    await users.clear();
    expect(await users.get('a')).toBeUndefined();
    expect(await pages.get('a')).toBe(2);
    expect(sharedStoreWarnings(warn)).toEqual([]);
  });

  it('no warning for two Keyvs of one namespace, nor for a Keyv that changes its own namespace', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const store = new KeyvLovelyMemcached(clientOf(memoryTransport()));
    new Keyv({ store, namespace: 'same' });
    const keyv = new Keyv({ store, namespace: 'same' });
    keyv.namespace = 'renamed';
    expect(store.namespace).toBe('renamed');
    const alone = new Keyv({ store: new KeyvLovelyMemcached(clientOf(memoryTransport())) });
    alone.namespace = 'other';
    expect(sharedStoreWarnings(warn)).toEqual([]);
  });

  it('two namespaces on one store: clear() of one wipes the other, so it is a process warning, once', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const store = new KeyvLovelyMemcached(clientOf(memoryTransport()));
    // The pattern @keyv/memcache's README shows.
    const users = new Keyv({ store, namespace: 'users' });
    const pages = new Keyv({ store, namespace: 'pages' });
    const said = sharedStoreWarnings(warn);
    expect(said).toHaveLength(1);
    expect(said[0]?.[0]).toContain('with namespaces "users" and then "pages"');
    expect(said[0]?.[0]).toContain('Give each Keyv its own store');
    expect(said[0]?.[1]).toMatchObject({ type: 'LovelyMemcachedWarning' });
    // What it warns about:
    await pages.set('a', 2);
    await users.clear();
    expect(await pages.get('a')).toBeUndefined();
    // Said once per process, however many stores are shared.
    const other = new KeyvLovelyMemcached(clientOf(memoryTransport()));
    new Keyv({ store: other, namespace: 'x' });
    new Keyv({ store: other, namespace: 'y' });
    expect(sharedStoreWarnings(warn)).toHaveLength(1);
  });
});
