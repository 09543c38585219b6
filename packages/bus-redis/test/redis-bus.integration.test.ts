/**
 * L1 with the Redis bus, against a real memcached and a real Redis: another client's invalidation (key,
 * dependency, namespace, all) reaches this client's L1 within milliseconds through the bus; a Redis that is
 * stopped (SIGSTOP), down at start or sending foreign messages never throws into the cache and never extends
 * staleness beyond maxStale.
 */
import { MemcachedClient } from '@lovely-memcached/core';
import {
  freePort,
  type RunningMemcached,
  type RunningRedis,
  startMemcached,
  startRedis,
} from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { captureWarnings } from '../../../test/support/expected-warnings';
import { type RedisBus, type RedisBusEvent, redisBus } from '../src/index';

let memcached: RunningMemcached;
let redis: RunningRedis;
const open: MemcachedClient[] = [];

beforeAll(async () => {
  [memcached, redis] = await Promise.all([startMemcached(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([memcached?.stop(), redis?.stop()]);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

function client(bus: RedisBus | undefined, maxStale: number): MemcachedClient {
  const made = new MemcachedClient({
    transport: memjsTransport(),
    servers: memcached.servers,
    l1: { maxBytes: '4mb', maxStale, ...(bus === undefined ? {} : { bus }) },
  });
  open.push(made);
  return made;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(1);
  }
  return performance.now() - start;
}

async function connected(...buses: RedisBus[]): Promise<void> {
  await until(() => buses.every((bus) => bus.connected), 5000);
}

describe('redisBus', () => {
  const cases = [
    ['a key', (b: MemcachedClient) => b.invalidate('k', { ns: 'n' })],
    ['a dependency', (b: MemcachedClient) => b.invalidate(undefined, { dependencies: ['d'], ns: 'n' })],
    ['a namespace', (b: MemcachedClient) => b.invalidateNamespace('n')],
    ['everything', (b: MemcachedClient) => b.invalidateAll()],
    ['a new value', (b: MemcachedClient) => b.set('k', 'new', { ns: 'n', dependencies: ['d'] })],
  ] as const;

  it.each(cases)('carries %s to the other L1 within milliseconds', async (_, invalidate) => {
    const busA = redisBus({ url: redis.url });
    const busB = redisBus({ url: redis.url });
    await connected(busA, busB);
    const a = client(busA, 60_000);
    const b = client(busB, 60_000);
    await b.set('k', 'old', { ns: 'n', dependencies: ['d'] });
    expect(await a.query('k', { ns: 'n' })).toBe('old');
    expect(await b.query('k', { ns: 'n' })).toBe('old');
    await invalidate(b);
    // The invalidating client itself is never stale.
    expect(await b.query('k', { ns: 'n' })).not.toBe('old');
    const lag = await until(async () => (await a.query('k', { ns: 'n' })) !== 'old', 1000);
    expect(lag).toBeLessThan(50);
    expect(a.l1Stats()?.busMessages).toBeGreaterThan(0);
  });

  it('works on an application ioredis client (duplicated to subscribe, never closed)', async () => {
    const app = new Redis(redis.url);
    try {
      const busA = redisBus({ client: app, channel: 'custom' });
      const busB = redisBus({ url: redis.url, channel: 'custom' });
      await connected(busA, busB);
      const a = client(busA, 60_000);
      const b = client(busB, 60_000);
      await a.set('k', 1);
      expect(await b.query('k')).toBe(1);
      await a.set('k', 2);
      await until(async () => (await b.query('k')) === 2, 1000);
      await a.close();
      expect(await app.ping()).toBe('PONG');
    } finally {
      app.disconnect();
    }
  });

  it('ignores and counts foreign messages on its channel', async () => {
    const bus = redisBus({ url: redis.url });
    await connected(bus);
    const a = client(bus, 60_000);
    const other = new Redis(redis.url);
    try {
      await other.publish('lovely-memcached:l1', 'hello');
      await other.publish('lovely-memcached:l1', Buffer.from([0x4c, 0x31, 1, 2, 0]));
      await until(() => a.l1Stats()?.foreignMessages === 2, 2000);
      await a.set('k', 'v');
      expect(await a.query('k')).toBe('v');
    } finally {
      other.disconnect();
    }
  });

  it('with Redis stopped (SIGSTOP), never serves a copy older than maxStale and never throws', async () => {
    // Redis not answering is reported as a process warning, once: expected here.
    const warnings = captureWarnings('LOVELY_MEMCACHED');
    onTestFinished(() => warnings.restore());
    const events: RedisBusEvent[] = [];
    const busA = redisBus({ url: redis.url, onEvent: (event) => events.push(event), commandTimeout: 200 });
    const busB = redisBus({ url: redis.url, commandTimeout: 200 });
    await connected(busA, busB);
    const maxStale = 300;
    const a = client(busA, maxStale);
    const b = client(busB, maxStale);
    await b.set('k', 0);
    expect(await a.query('k')).toBe(0);
    redis.pause();
    try {
      let stale = 0;
      for (let round = 1; round <= 5; round++) {
        const started = performance.now();
        await b.set('k', round);
        const resolved = performance.now();
        expect(resolved - started).toBeLessThan(100); // the bus never holds a write back
        // Read until maxStale after the write resolved: any old value after that is a violation.
        while (performance.now() - resolved < maxStale + 50) {
          const value = await a.query('k');
          if (value !== round && performance.now() - resolved > maxStale) stale++;
          await sleep(5);
        }
        expect(await a.query('k')).toBe(round);
      }
      expect(stale).toBe(0);
      expect(busB.failedPublishes).toBeGreaterThan(0);
    } finally {
      redis.resume();
    }
    await connected(busA, busB);
    await b.set('k', 'after');
    await until(async () => (await a.query('k')) === 'after', 1000);
  });

  it('starts with Redis down, serves from memcached meanwhile, and connects when Redis comes up', async () => {
    const port = await freePort();
    const events: RedisBusEvent[] = [];
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    const busA = redisBus({ url: `redis://127.0.0.1:${port}`, onEvent: (event) => events.push(event) });
    const busB = redisBus({ url: `redis://127.0.0.1:${port}` });
    let late: RunningRedis | undefined;
    try {
      const a = client(busA, 200);
      const b = client(busB, 200);
      await b.set('k', 1);
      expect(await a.query('k')).toBe(1);
      await b.set('k', 2);
      await sleep(250);
      expect(await a.query('k')).toBe(2);
      expect(events.some((event) => event.type === 'bus-down')).toBe(true);
      late = await startRedis({ port });
      await connected(busA, busB);
      expect(events.some((event) => event.type === 'bus-up')).toBe(true);
      expect(await a.query('k')).toBe(2);
      await b.set('k', 3);
      const lag = await until(async () => (await a.query('k')) === 3, 1000);
      expect(lag).toBeLessThan(50);
      expect(warnings.filter((warning) => warning.includes('bus-redis')).length).toBeLessThanOrEqual(1);
    } finally {
      process.off('warning', onWarning);
      await late?.stop();
    }
  });
});
