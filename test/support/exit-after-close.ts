// Run as a child process by test/close.shared.ts with a transport's name and a live server: uses clients of that
// transport (in each of its modes) against the live and a dead server, closes them, and must then exit on its
// own (no process.exit): nothing may keep the event loop alive.
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';

const [name, live] = process.argv.slice(2);
const factories: Record<string, () => TransportFactory[]> = {
  memjs: () => [memjsTransport()],
  // Meta commands with server-side leases, classic commands (proxy mode), several connections per server.
  meta: () => [metaTransport(), metaTransport({ proxy: true }), metaTransport({ connections: 3 })],
};
const transports = factories[name as string];
if (transports === undefined) throw new Error(`no transport named ${JSON.stringify(name)}`);

for (const transport of transports()) {
  const client = new MemcachedClient({
    transport,
    servers: [live as string, '127.0.0.1:1'],
    trackKeys: true,
  });
  for (let i = 0; i < 20; i++) await client.set(`k${i}`, i, { dependencies: ['d'] });
  await Promise.all(Array.from({ length: 20 }, (_, i) => client.query(`k${i}`)));
  await Promise.all(Array.from({ length: 5 }, (_, i) => client.getOrSet(`g${i}`, () => i)));
  await client.keys();
  await client.invalidate(undefined, { dependencies: ['d'] });
  await client.close();
}
process.stdout.write('closed\n');
