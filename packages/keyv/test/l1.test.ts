/**
 * Keyv over a client with L1 (issue 24): reads are answered from L1, and Keyv's writes, deletes and clear() in
 * one process reach another process's L1 through the bus (here two clients over one memory store and the
 * in-process bus).
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { inProcessBus } from '@lovely-memcached/testing';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import Keyv from 'keyv';
import { afterEach, expect, it } from 'vitest';
import { KeyvLovelyMemcached } from '../src';

const clients: MemcachedClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

const tick = () => new Promise((resolve) => setImmediate(resolve));

it('reads from L1, and set / delete / clear in one process reach the other L1 through the bus', async () => {
  const transport = memoryTransport();
  const bus = inProcessBus();
  const make = () => {
    const client = new MemcachedClient({
      transport,
      l1: { maxBytes: '1mb', maxStale: '1m', bus: bus.connect() },
    });
    clients.push(client);
    return client;
  };
  const [clientA, clientB] = [make(), make()];
  const a = new Keyv({ store: new KeyvLovelyMemcached(clientA), namespace: 'users' });
  const b = new Keyv({ store: new KeyvLovelyMemcached(clientB), namespace: 'users' });

  await a.set('u1', { name: 'Ada' });
  expect(await b.get('u1')).toEqual({ name: 'Ada' });
  expect(await b.get('u1')).toEqual({ name: 'Ada' });
  expect(clientB.l1Stats()?.hits).toBeGreaterThan(0);

  await a.set('u1', { name: 'Grace' });
  await tick();
  expect(await b.get('u1')).toEqual({ name: 'Grace' });

  await a.delete('u1');
  await tick();
  expect(await b.get('u1')).toBeUndefined();

  await a.set('u2', 2);
  expect(await b.get('u2')).toBe(2);
  await a.clear();
  await tick();
  expect(await b.get('u2')).toBeUndefined();
  // The process that cleared reads its own clear at once.
  expect(await a.get('u2')).toBeUndefined();
});
