/**
 * L1 (issue 24), in `npm run bench` and alone (`pnpm --filter @lovely-memcached/bench l1`): an L1 hit vs a
 * memcached `query` vs bentocache 1.6.1's getOrSet hit through its L1 (memory) over Redis (L2) with its Redis bus,
 * at concurrency 1 and 64, hot keys of 1 KB; and the hit ratio of a hot key another process invalidates 10×/s
 * through the Redis bus.
 */
import { redisBus } from '@lovely-memcached/bus-redis';
import { MemcachedClient } from '@lovely-memcached/core';
import { startMemcached, startRedis } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { compare, type Measured } from './measure';
import type { Row } from './report';

const HOT_KEYS = 100;
const VALUE = 'x'.repeat(1024);

const byName = (measured: Measured[], name: string) => measured.find((m) => m.name === name) as Measured;

export async function measureL1({ quick, servers }: { quick: boolean; servers: string[] }): Promise<Row[]> {
  const rounds = quick ? 2 : 5;
  const redis = await startRedis();
  const rows: Row[] = [];
  const plain = new MemcachedClient({ transport: memjsTransport(), servers });
  const near = new MemcachedClient({
    transport: memjsTransport(),
    servers,
    l1: { maxBytes: '64mb', maxStale: '1s', bus: redisBus({ url: redis.url }) },
  });
  const writer = new MemcachedClient({
    transport: memjsTransport(),
    servers,
    l1: { maxBytes: '1mb', maxStale: '1s', bus: redisBus({ url: redis.url }) },
  });
  const connection = { host: '127.0.0.1', port: redis.port };
  const bento = new BentoCache({
    default: 'tiered',
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxSize: '64mb' }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  });
  let n = 0;
  const nextKey = () => `l1-${n++ % HOT_KEYS}`;
  const factory = () => VALUE;
  try {
    for (let i = 0; i < HOT_KEYS; i++) {
      await plain.set(`l1-${i}`, VALUE);
      await near.getOrSet(`l1-${i}`, factory, { lifetime: 3600 });
      await bento.getOrSet({ key: `l1-${i}`, factory, ttl: '1h' });
    }
    for (const concurrency of [1, 64]) {
      const measured = await compare(
        [
          { name: 'L1 hit (getOrSet)', op: () => near.getOrSet(nextKey(), factory, { lifetime: 3600 }) },
          { name: 'L1 hit (query)', op: () => near.query(nextKey()) },
          { name: 'memcached query (no L1)', op: () => plain.query(nextKey()) },
          {
            name: 'bentocache L1+L2 getOrSet hit',
            op: () => bento.getOrSet({ key: nextKey(), factory, ttl: '1h' }),
          },
        ],
        concurrency,
        { rounds },
      );
      const hit = byName(measured, 'L1 hit (getOrSet)');
      const memcached = byName(measured, 'memcached query (no L1)');
      const bentoHit = byName(measured, 'bentocache L1+L2 getOrSet hit');
      for (const m of measured) {
        rows.push({
          group: 'L1 hits, 1 KB hot keys',
          subject: m.name,
          concurrency,
          value: m.opsPerSecond,
          unit: 'ops/s',
        });
      }
      rows.push({
        group: 'L1 hit vs memcached query',
        subject: 'L1 getOrSet hit / memcached query',
        concurrency,
        value: hit.opsPerSecond / memcached.opsPerSecond,
        unit: '×',
        ...(concurrency === 1
          ? { target: '≥ 30×', met: hit.opsPerSecond / memcached.opsPerSecond >= 30 }
          : {}),
      });
      rows.push({
        group: 'L1 hit vs bentocache L1+L2 hit',
        subject: 'L1 getOrSet hit / bentocache getOrSet hit',
        concurrency,
        value: hit.opsPerSecond / bentoHit.opsPerSecond,
        unit: '×',
        target: '≥ 3×',
        met: hit.opsPerSecond / bentoHit.opsPerSecond >= 3,
      });
    }

    // A hot key invalidated 10×/s by another client, through the bus; the reader reads it as fast as it can.
    await writer.set('hot', 0);
    const before = near.l1Stats();
    const seconds = quick ? 2 : 5;
    let version = 0;
    const ticker = setInterval(() => {
      void writer.set('hot', ++version);
    }, 100);
    const end = performance.now() + seconds * 1000;
    let reads = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 1000; i++) await near.query('hot');
      reads += 1000;
      await new Promise((resolve) => setImmediate(resolve));
    }
    clearInterval(ticker);
    const after = near.l1Stats();
    const hits = (after?.hits ?? 0) - (before?.hits ?? 0);
    const misses = (after?.misses ?? 0) - (before?.misses ?? 0);
    const ratio = hits / (hits + misses);
    rows.push({
      group: 'hot key invalidated 10×/s through the Redis bus',
      subject: `L1 hit ratio over ${reads.toLocaleString('en-US')} reads (${version} writes, ${after?.busMessages ?? 0} bus messages)`,
      concurrency: 1,
      value: ratio * 100,
      unit: '×',
      target: '> 99 % (value in %)',
      met: ratio > 0.99,
    });
  } finally {
    await Promise.all([plain.close(), near.close(), writer.close(), bento.disconnect()]);
    await redis.stop();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startMemcached({ args: ['-t', '1', '-m', '256'] });
  try {
    const rows = await measureL1({ quick: process.argv.includes('--quick'), servers: server.servers });
    for (const row of rows) {
      const value =
        row.unit === 'ops/s' ? Math.round(row.value).toLocaleString('en-US') : row.value.toFixed(2);
      process.stdout.write(
        `${row.group} | ${row.subject} | c=${row.concurrency} | ${value} ${row.unit}${row.target ? ` | target ${row.target}: ${row.met ? 'met' : 'NOT met'}` : ''}\n`,
      );
    }
  } finally {
    await server.stop();
  }
  process.exit(0);
}
