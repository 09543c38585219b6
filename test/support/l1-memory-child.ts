// Run by test/l1-memory.integration.test.ts under `node --expose-gc`: 40,000 distinct 1 KB values through an
// 8 MB L1 (read from a real memcached, so the heap holds only what L1 keeps), and the heap's growth after a GC.
import { MemcachedClient } from '@lovely-memcached/core';
import { memjsTransport } from '@lovely-memcached/transport-memjs';

const [server, shape = 'string'] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const VALUES = 40_000;
const MAX_BYTES = 8 * 1024 * 1024;
const value = (i: number): unknown =>
  shape === 'string'
    ? `${String(i).padStart(8, '0')}${'v'.repeat(1016)}`
    : { id: i, name: `item ${i}`, tags: ['a', 'b', 'c'], body: 'w'.repeat(960) };

const writer = new MemcachedClient({ transport: memjsTransport(), servers: [server as string] });
const reader = new MemcachedClient({
  transport: memjsTransport(),
  servers: [server as string],
  l1: { maxBytes: MAX_BYTES, maxStale: '10m' },
});
for (let i = 0; i < VALUES; i += 500) {
  await Promise.all(Array.from({ length: 500 }, (_, j) => writer.set(`m${i + j}`, value(i + j) as never)));
}
// Warm up the reader's code paths and connection on another key, then measure from an empty L1.
await reader.query('m0', { l1: false });
gc();
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < VALUES; i += 200) {
  await Promise.all(Array.from({ length: 200 }, (_, j) => reader.query(`m${i + j}`)));
}
gc();
gc();
const after = process.memoryUsage().heapUsed;
const stats = reader.l1Stats();
process.stdout.write(
  `${JSON.stringify({ growth: after - before, maxBytes: MAX_BYTES, entries: stats?.entries, bytes: stats?.bytes, evictions: stats?.evictions })}\n`,
);
await Promise.all([writer.close(), reader.close()]);
