/**
 * r3: with `metaTransport({ connections: 2 })`, a getOrSet started after invalidate(key) resolved must not
 * share the `mg … N` read another getOrSet sent before it (the delete went out on the other connection and
 * finished first). A relay in front of memcached delays the replies of a connection that carried an
 * `mg … N` (a slow link). Failed on the round 2 code: the later call answered the deleted value.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function slowLeaseRelay(
  upstreamPort: number,
): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    let slow = false;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (data) => {
      if (/^mg \S+ v f c N/m.test(data.toString('latin1'))) slow = true;
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (slow) setTimeout(() => client.write(data), 300);
      else client.write(data);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0, sockets });
    }),
  );
}

describe('meta, two connections: shared lease reads and invalidations', () => {
  let memcached: RunningMemcached;
  let relay: Awaited<ReturnType<typeof slowLeaseRelay>>;
  let client: MemcachedClient;
  beforeAll(async () => {
    memcached = await startMemcached();
    relay = await slowLeaseRelay(memcached.port);
    client = new MemcachedClient({
      servers: [`127.0.0.1:${relay.port}`],
      transport: metaTransport({ connections: 2, timeout: 2000 }),
    });
    await Promise.all([client.query('warm-1'), client.query('warm-2')]);
  });
  afterAll(async () => {
    await client.close();
    for (const socket of relay.sockets) socket.destroy();
    relay.server.close();
    await memcached.stop();
  });

  it('r3: a getOrSet started after invalidate(key) resolved never answers the deleted value', async () => {
    const key = `article-${Date.now()}`;
    await client.set(key, 'old text');
    let calls = 0;
    const factory = async () => {
      calls++;
      return 'new text';
    };
    const before = client.getOrSet(key, factory); // its mg … N goes out on the slow connection
    await sleep(20);
    await client.invalidate(key); // the delete, on the other connection: done
    expect(await client.query(key)).toBeUndefined();
    const after = await client.getOrSet(key, factory);
    expect(after).toBe('new text');
    expect(calls).toBe(1);
    expect(await before).toBe('old text'); // started before the invalidation: the old value was its to have
  });
});
