// Run as a child process by close.integration.test.ts: uses clients (meta commands, server-side leases, and
// proxy mode) against a live and a dead server, closes them, and must then exit on its own (no process.exit):
// nothing may keep the event loop alive.
import { MemcachedClient } from '@lovely-memcached/core';
import { metaTransport } from '../../src';

const [live] = process.argv.slice(2);
for (const options of [{}, { proxy: true }, { connections: 3 }]) {
  const client = new MemcachedClient({
    transport: metaTransport(options),
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
