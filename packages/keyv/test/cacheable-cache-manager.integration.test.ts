// cacheable and cache-manager on Keyv on KeyvLovelyMemcached, against a real memcached started for the test.
import { createServer, type Server, type Socket } from 'node:net';
import { MemcachedClient } from '@lovely-memcached/core';
import { startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { createCache } from 'cache-manager';
import { Cacheable } from 'cacheable';
import Keyv from 'keyv';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { KeyvLovelyMemcached } from '../src';

const running = await startMemcached();
const clients: MemcachedClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await running.stop();
});

/** A client of its own, as another process would have. */
function processClient(): MemcachedClient {
  const client = new MemcachedClient({ transport: memjsTransport(), servers: running.servers });
  clients.push(client);
  return client;
}

function keyvOn(client: MemcachedClient, namespace: string): Keyv {
  return new Keyv({ store: new KeyvLovelyMemcached(client), namespace });
}

describe('cache-manager: createCache({ stores: [new Keyv({ store })] })', () => {
  it('wrap calls its function once, for concurrent callers and for a second process', async () => {
    const namespace = `cm-wrap-${Date.now()}`;
    const here = createCache({ stores: [keyvOn(processClient(), namespace)] });
    const there = createCache({ stores: [keyvOn(processClient(), namespace)] });
    const render = vi.fn(async () => ({ html: '<h1>report</h1>', at: 1 }));
    const results = await Promise.all([1, 2, 3].map(() => here.wrap('report', render, 60_000)));
    expect(results).toEqual([1, 2, 3].map(() => ({ html: '<h1>report</h1>', at: 1 })));
    const elsewhere = vi.fn(async () => ({ html: 'recomputed', at: 2 }));
    expect(await there.wrap('report', elsewhere, 60_000)).toEqual({ html: '<h1>report</h1>', at: 1 });
    expect(render).toHaveBeenCalledTimes(1);
    expect(elsewhere).not.toHaveBeenCalled();
  });

  it('set/get/ttl/mset/mget/del/mdel, and clear() only of its own namespace', async () => {
    const client = processClient();
    const suffix = Date.now();
    const users = createCache({ stores: [keyvOn(client, `cm-users-${suffix}`)] });
    const pages = createCache({ stores: [keyvOn(client, `cm-pages-${suffix}`)] });
    const before = Date.now();
    await users.set('ada', { name: 'Ada' }, 60_000);
    expect(await users.get('ada')).toEqual({ name: 'Ada' });
    const expires = await users.ttl('ada');
    expect(expires).toBeGreaterThanOrEqual(before + 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 60_000);
    await users.mset([
      { key: 'bob', value: 'Bob' },
      { key: 'cy', value: 'Cy', ttl: 60_000 },
    ]);
    expect(await users.mget(['ada', 'bob', 'cy', 'nobody'])).toEqual([
      { name: 'Ada' },
      'Bob',
      'Cy',
      undefined,
    ]);
    await users.del('bob');
    await users.mdel(['cy']);
    expect(await users.mget(['bob', 'cy'])).toEqual([undefined, undefined]);
    await pages.set('home', '<h1>home</h1>');
    await users.clear();
    expect(await users.get('ada')).toBeUndefined();
    expect(await pages.get('home')).toBe('<h1>home</h1>');
  });

  it('an entry past its ttl is gone for every process', async () => {
    const namespace = `cm-ttl-${Date.now()}`;
    const here = createCache({ stores: [keyvOn(processClient(), namespace)] });
    const there = createCache({ stores: [keyvOn(processClient(), namespace)] });
    await here.set('short', 'lived', 200);
    expect(await there.get('short')).toBe('lived');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await there.get('short')).toBeUndefined();
  });
});

describe('cacheable: memory in front, memcached behind', () => {
  it('a second process finds the value in memcached; getOrSet and wrap call their function once', async () => {
    const namespace = `cacheable-${Date.now()}`;
    const here = new Cacheable({ secondary: new KeyvLovelyMemcached(processClient()), namespace });
    const there = new Cacheable({ secondary: new KeyvLovelyMemcached(processClient()), namespace });
    await here.set('greeting', 'hello', '1m');
    expect(await there.get('greeting')).toBe('hello');
    expect(await there.has('greeting')).toBe(true);

    const load = vi.fn(async () => ({ rows: 3 }));
    expect(await here.getOrSet('report', load, { ttl: '1m' })).toEqual({ rows: 3 });
    expect(await there.getOrSet('report', load, { ttl: '1m' })).toEqual({ rows: 3 });
    expect(load).toHaveBeenCalledTimes(1);

    const square = vi.fn(async (n: number) => n * n);
    const cachedSquare = here.wrap(square, { ttl: '1m', keyPrefix: 'square' });
    expect(await Promise.all([cachedSquare(4), cachedSquare(4), cachedSquare(5)])).toEqual([16, 16, 25]);
    expect(square).toHaveBeenCalledTimes(2);

    await here.delete('greeting');
    expect(await here.get('greeting')).toBeUndefined();
    // `there` still holds it in memory (its primary): its memcached copy is what is gone
    expect(await there.secondary?.get('greeting')).toBeUndefined();
  });
});

describe('a server that accepts connections and never answers', () => {
  it('costs cache-manager one deadline, not a hang: wrap computes and answers', async () => {
    const accepted: Socket[] = [];
    // Accepts, reads nothing, answers nothing: what a hung memcached or a dropped route looks like.
    const blackhole: Server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const address = blackhole.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const client = new MemcachedClient({
      transport: memjsTransport({ timeout: 300 }),
      servers: `127.0.0.1:${address.port}`,
    });
    const cache = createCache({ stores: [keyvOn(client, 'dead')] });
    try {
      const started = performance.now();
      expect(await cache.wrap('k', async () => 'computed', 60_000)).toBe('computed');
      expect(performance.now() - started).toBeLessThan(5_000); // a few deadlines at most, never forever
    } finally {
      await client.close();
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });
});
