/**
 * Cluster auto-discovery (#15.6) over both network transports: a fake ElastiCache configuration endpoint (the
 * reply format is AWS's: a version line, then `host|ip|port` entries) with real memcached nodes behind it;
 * nodes added and removed under load, the old engines' key, and an endpoint that goes away.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { CacheError, MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { parseClusterConfig, type TransportEvent } from '@lovely-memcached/transport-kit';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ConfigEndpoint {
  address: string;
  nodes: string[];
  version: number;
  /** Answer like an engine before 1.4.14: ERROR to `config get`, the config under a key instead. */
  oldEngine: boolean;
  close(): Promise<void>;
}

async function startConfigEndpoint(nodes: string[]): Promise<ConfigEndpoint> {
  const sockets = new Set<Socket>();
  const endpoint: ConfigEndpoint = {
    address: '',
    nodes,
    version: 1,
    oldEngine: false,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n')) {
        const line = buffered.slice(0, buffered.indexOf('\r\n'));
        buffered = buffered.slice(line.length + 2);
        const body = `${endpoint.version}\n${endpoint.nodes.map((node) => `node-${node.split(':')[1]}.cache.local|${node.split(':')[0]}|${node.split(':')[1]}`).join(' ')}\n\r\n`;
        if (line === 'config get cluster') {
          socket.write(
            endpoint.oldEngine ? 'ERROR\r\n' : `CONFIG cluster 0 ${body.length}\r\n${body}END\r\n`,
          );
        } else if (line === 'get AmazonElastiCache:cluster') {
          socket.write(`VALUE AmazonElastiCache:cluster 0 ${body.length}\r\n${body}END\r\n`);
        } else {
          socket.write('ERROR\r\n');
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return endpoint;
}

it('parses the configuration AWS sends', () => {
  expect(parseClusterConfig('12\nmy.cache.local|10.0.0.1|11211 other.local||11212\n')).toEqual({
    version: 12,
    nodes: ['10.0.0.1:11211', 'other.local:11212'],
  });
  expect(parseClusterConfig('not a version\nx|y|1\n')).toBeUndefined();
  expect(parseClusterConfig('3\nbroken-entry\n')).toBeUndefined();
});

it('refuses an autoDiscover option that is not true, false or an object', () => {
  for (const make of [memjsTransport, metaTransport]) {
    expect(() => make({ autoDiscover: 'yes' as never })).toThrow(CacheError);
    expect(() => make({ autoDiscover: { interval: -1 } })).toThrow(/autoDiscover\.interval/);
  }
});

type DiscoveryOptions = {
  autoDiscover: { endpoint: string; interval: number };
  onEvent: (e: TransportEvent) => void;
};
const transports: Array<[string, (options: DiscoveryOptions) => TransportFactory]> = [
  ['memjs', (options) => memjsTransport(options)],
  ['meta', (options) => metaTransport(options as Parameters<typeof metaTransport>[0])],
];

describe.each(transports)('auto-discovery over the %s transport', (_name, makeTransport) => {
  let nodes: RunningMemcached[] = [];
  const addresses = () => nodes.map((node) => node.servers[0] as string);
  const itemsOn = async (node: RunningMemcached) => {
    const t = memjsTransport()(node.servers);
    const [stats] = await t.stats();
    await t.close();
    return Number(stats?.stats.curr_items ?? 0);
  };
  beforeAll(async () => {
    nodes = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  });

  it('follows nodes added and removed under load, and keeps serving when the endpoint goes away', async () => {
    const [a, b, c] = nodes as [RunningMemcached, RunningMemcached, RunningMemcached];
    const endpoint = await startConfigEndpoint([addresses()[0] as string, addresses()[1] as string]);
    const events: TransportEvent[] = [];
    const client = new MemcachedClient({
      transport: makeTransport({
        autoDiscover: { endpoint: endpoint.address, interval: 100 },
        onEvent: (e) => events.push(e),
      }),
      servers: a.servers,
      defaultNS: `discovery-${Math.random().toString(36).slice(2)}`,
    });
    // Load all along: every set is read back (from whichever ring is current); nothing throws.
    let running = true;
    let failures = 0;
    let operations = 0;
    const load = (async () => {
      for (let i = 0; running; i++) {
        const key = `load-${i % 200}`;
        await client.set(key, i);
        if ((await client.query(key)) !== i) failures++;
        operations++;
        if (i % 20 === 0) await sleep(1);
      }
    })();

    await sleep(300);
    expect(events.filter((e) => e.type === 'cluster-changed').at(-1)).toMatchObject({
      version: 1,
      nodes: [addresses()[0], addresses()[1]],
    });
    const before = await itemsOn(c);
    endpoint.nodes = addresses(); // C joins
    endpoint.version = 2;
    await sleep(400);
    expect(events.filter((e) => e.type === 'cluster-changed').at(-1)).toMatchObject({ version: 2 });
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.set(`spread-${i}`, i)));
    expect(await itemsOn(c)).toBeGreaterThan(before + 30);

    endpoint.nodes = [addresses()[0] as string, addresses()[2] as string]; // B leaves
    endpoint.version = 3;
    await sleep(400);
    const onB = await itemsOn(b);
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.set(`after-b-${i}`, i)));
    expect(await itemsOn(b)).toBe(onB);

    // Old engines: ERROR to `config get cluster`, the configuration under a key.
    endpoint.oldEngine = true;
    endpoint.nodes = addresses();
    endpoint.version = 4;
    await sleep(400);
    expect(events.filter((e) => e.type === 'cluster-changed').at(-1)).toMatchObject({
      version: 4,
      nodes: addresses(),
    });

    await endpoint.close();
    await sleep(400);
    expect(events.some((e) => e.type === 'discovery-failed')).toBe(true);
    await client.set('still', 'serving');
    expect(await client.query('still')).toBe('serving');

    running = false;
    await load;
    expect(operations).toBeGreaterThan(100);
    // A set that went out on the old nodes and a query on the new ones can miss once when the ring changes
    // (consistent hashing moves about a third of the keys here): a few misses, no error, never a hang.
    expect(failures).toBeLessThan(operations * 0.05);
    await client.close();
  });

  it('getOrSet runs the factory once per node across polls, the cluster unchanged and then changed', async () => {
    const [a, b] = nodes as [RunningMemcached, RunningMemcached];
    const endpoint = await startConfigEndpoint([addresses()[0] as string]);
    const client = new MemcachedClient({
      transport: makeTransport({
        autoDiscover: { endpoint: endpoint.address, interval: 100 },
        onEvent: () => {},
      }),
      servers: a.servers,
      defaultNS: `discovery-leases-${Math.random().toString(36).slice(2)}`,
    });
    let calls = 0;
    const factory = async () => ++calls;
    const five = async () => {
      const answers: number[] = [];
      for (let i = 0; i < 5; i++) answers.push(await client.getOrSet('report', factory));
      return answers;
    };
    expect(await five()).toEqual([1, 1, 1, 1, 1]);
    // Polled many times, the first poll rebuilt the transport: the one it replaced is closed after its deadline.
    await sleep(1200);
    expect(await five()).toEqual([1, 1, 1, 1, 1]);
    expect(calls).toBe(1);

    endpoint.nodes = [addresses()[1] as string]; // the cluster moves to another node, where the key is absent
    endpoint.version = 2;
    await sleep(1200);
    expect(await five()).toEqual([2, 2, 2, 2, 2]);
    expect(calls).toBe(2);
    expect(await client.query('report')).toBe(2);
    const onB = memjsTransport()(b.servers);
    expect((await onB.stats())[0]?.stats.curr_items).not.toBe('0');
    await Promise.all([onB.close(), client.close(), endpoint.close()]);
  });
});
