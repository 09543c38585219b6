/**
 * Connections per server: query and set through memjsTransport({ connections: 1 | 2 | 4 }) against
 * `memcached -t 4`, at concurrency 64 and 256, interleaved; ratios against one connection.
 *
 *   pnpm --filter @lovely-memcached/bench connections
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { compare } from './measure';

const VALUE = 'v'.repeat(100);
const server = await startMemcached({ args: ['-t', '4'] });
const clients = [1, 2, 4].map(
  (connections) =>
    [
      connections,
      new MemcachedClient({ transport: memjsTransport({ connections }), servers: server.servers }),
    ] as const,
);
for (let i = 0; i < 1000; i++) await clients[0]?.[1].set(`c-${i}`, VALUE);
let n = 0;
const lines = ['| operation | concurrency | 2 connections / 1 | 4 connections / 1 |', '|---|---:|---:|---:|'];
for (const concurrency of [64, 256]) {
  for (const operation of ['query', 'set'] as const) {
    const measured = await compare(
      clients.map(([connections, client]) => ({
        name: `${connections}`,
        op: () =>
          operation === 'query' ? client.query(`c-${n++ % 1000}`) : client.set(`c-${n++ % 1000}`, VALUE),
      })),
      concurrency,
      { rounds: 5 },
    );
    const [one, two, four] = measured.map((m) => m.opsPerSecond) as [number, number, number];
    lines.push(
      `| ${operation} | ${concurrency} | ${(two / one).toFixed(2)}× | ${(four / one).toFixed(2)}× |`,
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
await Promise.all(clients.map(([, client]) => client.close()));
await server.stop();
process.exit(0);
