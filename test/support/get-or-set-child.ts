/**
 * One process of the cross-process stampede test: at START_AT, CALLERS concurrent `getOrSet` calls of one cold
 * key; prints `{ factoryCalls, values }` as JSON. Run by test/get-or-set-processes.integration.test.ts.
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { memjsTransport } from '@lovely-memcached/transport-memjs';

const { SERVERS = '', NS = 'stampede', KEY = 'cold', CALLERS = '25', START_AT = '0' } = process.env;

const client = new MemcachedClient({
  transport: memjsTransport(),
  servers: SERVERS.split(','),
  defaultNS: NS,
});
let factoryCalls = 0;
const factory = async () => {
  factoryCalls++;
  await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 100));
  return `computed by ${process.pid}`;
};

await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(START_AT) - Date.now())));
const values = await Promise.all(
  Array.from({ length: Number(CALLERS) }, () => client.getOrSet(KEY, factory)),
);
await client.close();
process.stdout.write(JSON.stringify({ factoryCalls, values: [...new Set(values)] }));
