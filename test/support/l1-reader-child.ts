// Run by test/l1-processes.integration.test.ts: one process with L1 (and the Redis bus unless the url is '-')
// reading one key as often as it can (a read every ~2 ms) until the parent sends a message (the run is over); prints every read as
// [started, ended, value] (wall-clock ms with sub-ms precision, shared by every process on the machine).
import { redisBus } from '@lovely-memcached/bus-redis';
import { MemcachedClient } from '@lovely-memcached/core';
import { memjsTransport } from '@lovely-memcached/transport-memjs';

const [server, redisUrl, maxStale] = process.argv.slice(2) as [string, string, string];
let running = true;
process.on('message', () => {
  running = false;
});
const clock = () => performance.timeOrigin + performance.now();
const bus = redisUrl === '-' ? undefined : redisBus({ url: redisUrl, commandTimeout: 200 });
const client = new MemcachedClient({
  transport: memjsTransport(),
  servers: [server],
  l1: { maxBytes: '8mb', maxStale: Number(maxStale), ...(bus === undefined ? {} : { bus }) },
});
while (bus !== undefined && !bus.connected) await new Promise((resolve) => setTimeout(resolve, 5));
process.stdout.write('ready\n');
const samples: Array<[number, number, unknown]> = [];
while (running) {
  const started = clock();
  const value = await client.query('k', { ns: 'n' });
  samples.push([started, clock(), value ?? null]);
  await new Promise((resolve) => setTimeout(resolve, 2));
}
process.stdout.write(`${JSON.stringify({ samples, stats: client.l1Stats() })}\n`);
await client.close();
process.exit(0);
