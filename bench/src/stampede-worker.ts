/**
 * One process of the cold-key stampede benchmark (bench/src/stampede.ts): at START_AT, CALLERS concurrent
 * read-through calls of one cold key, through our getOrSet (memcached) or bentocache's (Redis L2).
 * Prints `{ factoryCalls, latencies }` as JSON: each caller's time from START_AT to its value, in ms.
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';

const {
  SUBJECT = 'ours',
  SERVER = '',
  KEY = 'cold',
  CALLERS = '250',
  START_AT = '0',
  FACTORY_MS = '300',
} = process.env;

let factoryCalls = 0;
const factory = async () => {
  factoryCalls++;
  await new Promise((resolve) => setTimeout(resolve, Number(FACTORY_MS)));
  return { renderedBy: process.pid };
};

type ReadThrough = { get(): Promise<unknown>; close(): Promise<void> };

function ours(): ReadThrough {
  const client = new MemcachedClient({ transport: memjsTransport(), servers: [SERVER] });
  return { get: () => client.getOrSet(KEY, factory, { lifetime: 60 }), close: () => client.close() };
}

function bento(): ReadThrough {
  const [host, port] = SERVER.split(':');
  const cache = new BentoCache({
    default: 'redis',
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: { host, port: Number(port) } })) },
  });
  return { get: () => cache.getOrSet({ key: KEY, factory, ttl: '1m' }), close: () => cache.disconnect() };
}

const subject = SUBJECT === 'bentocache' ? bento() : ours();
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(START_AT) - Date.now())));
const latencies = await Promise.all(
  Array.from({ length: Number(CALLERS) }, async () => {
    await subject.get();
    return Date.now() - Number(START_AT);
  }),
);
await subject.close();
process.stdout.write(JSON.stringify({ factoryCalls, latencies }));
process.exit(0);
