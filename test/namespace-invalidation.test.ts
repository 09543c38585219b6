import { MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { expect, it } from 'vitest';
import { describeNamespaceInvalidation } from './namespace-invalidation.shared';
import { recording } from './support/recording-transport';

describeNamespaceInvalidation('the memory transport', async () => ({
  transport: memoryTransport(),
  servers: ['127.0.0.1:11211', '127.0.0.1:11212'],
  teardown: async () => {},
}));

it('costs the same round trips with 1 or 1,000 entries, and a plain query no extra one', async () => {
  const rec = recording(memoryTransport());
  const client = new MemcachedClient({
    transport: rec.factory,
    servers: ['127.0.0.1:11211'],
    defaultNS: 'app',
  });
  const callsOf = async (run: () => Promise<unknown>) => {
    const before = rec.calls.length;
    await run();
    return rec.calls.slice(before).map((c) => c.method);
  };
  await client.set('one', 1);
  const small = await callsOf(() => client.invalidateNamespace());
  for (let i = 0; i < 1000; i++) await client.set(i, i);
  const large = await callsOf(() => client.invalidateNamespace());
  expect(large).toEqual(small);
  expect(small).toEqual(['delete']);

  const fresh = new MemcachedClient({
    transport: rec.factory,
    servers: ['127.0.0.1:11211'],
    defaultNS: 'app',
  });
  await client.set('q', 'v');
  // A client that never saw the entry: the entry and its namespace token travel in one multi-get.
  expect(await callsOf(() => fresh.query('q'))).toEqual(['getMulti']);
  await Promise.all([client.close(), fresh.close()]);
});

it("a client's own writes right after its invalidateAll() are served (no reused token from before the flush)", async () => {
  const client = new MemcachedClient({
    transport: memoryTransport(),
    servers: ['127.0.0.1:11211'],
    defaultNS: 'app',
  });
  await client.set('a', 1, { dependencies: ['d'] });
  await client.invalidateAll();
  await client.set('a', 2, { dependencies: ['d'] });
  await client.set('b', 3);
  expect(await client.query('a')).toBe(2);
  expect(await client.query('b')).toBe(3);
  await client.close();
});
