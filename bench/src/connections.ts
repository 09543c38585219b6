/**
 * Connections per server: query and set through memjsTransport({ connections: 1 | 2 | 4 }) against
 * `memcached -t 4`, over plain TCP and over TLS (`memcached -Z`, where each connection's encryption is one
 * memcached worker thread's work), at concurrency 64 and 256, interleaved; ratios against one connection.
 * Values of 100 bytes and 16 KB; `query` reads the 100-byte ones (concurrent queries share one multi-get).
 *
 *   pnpm --filter @lovely-memcached/bench connections
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { makeTestCertificates, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { compare } from './measure';

const SMALL = 'v'.repeat(100);
const LARGE = 'v'.repeat(16 * 1024);
const KEYS = 1000;
const certs = makeTestCertificates();
// A server marked down answers every call at once, as a miss: that would pass for speed. So every call's answer
// is checked, and a row with failed calls says so.
const lines = [
  '| link | operation | concurrency | 1 connection (ops/s) | 2 connections / 1 | 4 connections / 1 | failed calls |',
  '|---|---|---:|---:|---:|---:|---:|',
];

for (const link of ['plain', 'TLS'] as const) {
  const tls = link === 'TLS' ? { ca: certs.ca } : undefined;
  const server = await startMemcached({
    args: ['-t', '4', ...(tls === undefined ? [] : certs.memcachedTlsArgs())],
  });
  const clients = [1, 2, 4].map(
    (connections) =>
      [
        connections,
        new MemcachedClient({
          transport: memjsTransport({
            connections,
            tls,
            onEvent: (event) => {
              if (event.type === 'server-down')
                process.stderr.write(`${link}, ${connections} connections: ${JSON.stringify(event)}\n`);
            },
          }),
          servers: server.servers,
        }),
      ] as const,
  );
  for (let i = 0; i < KEYS; i++) await clients[0]?.[1].set(`c-${i}`, SMALL);
  let n = 0;
  let failed = 0;
  const counted = (done: unknown) => {
    if (done === undefined || done === null) failed++;
  };
  const operations = {
    query: (client: MemcachedClient) => client.query(`c-${n++ % KEYS}`).then(counted),
    'set 100 B': (client: MemcachedClient) => client.set(`c-${n++ % KEYS}`, SMALL).then(counted),
    'set 16 KB': (client: MemcachedClient) => client.set(`l-${n++ % KEYS}`, LARGE).then(counted),
  };
  for (const concurrency of [64, 256]) {
    for (const [operation, run] of Object.entries(operations)) {
      failed = 0;
      const measured = await compare(
        clients.map(([connections, client]) => ({ name: `${connections}`, op: () => run(client) })),
        concurrency,
        { rounds: 5 },
      );
      const [one, two, four] = measured.map((m) => m.opsPerSecond) as [number, number, number];
      lines.push(
        `| ${link} | ${operation} | ${concurrency} | ${Math.round(one)} | ${(two / one).toFixed(2)}× | ${(four / one).toFixed(2)}× | ${failed} |`,
      );
    }
  }
  await Promise.all(clients.map(([, client]) => client.close()));
  await server.stop();
}
process.stdout.write(`${lines.join('\n')}\n`);
certs.remove();
process.exit(0);
