/**
 * Real faults under load, over every network transport (memjs; meta with meta commands, with classic commands
 * (`proxy: true`), and with several connections): memcached killed and restarted under 16-way concurrent use,
 * and a proxy that stalls or cuts replies mid-frame. Invariants: zero throws, zero unhandled rejections, every
 * call settles within its deadline (generous slack), and service resumes within 2 s once the server is back.
 */
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy';
import { trackUnhandledRejections } from './support/unhandled-rejections';

const TIMEOUT = 250;
const SLACK = 1000;

const unhandled = trackUnhandledRejections();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Load {
  stop(): Promise<{ calls: number; threw: unknown[]; slowest: number; stored: number }>;
}

/** 16 loops of set / query / multi-key reads (with dependencies now and then) until stopped. */
function startLoad(client: MemcachedClient): Load {
  let running = true;
  const result = { calls: 0, threw: [] as unknown[], slowest: 0, stored: 0 };
  const loops = Array.from({ length: 16 }, async (_, loop) => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      try {
        if (i % 3 === 0) {
          if ((await client.set(`k${loop}-${i % 10}`, i, { dependencies: i % 2 ? ['d'] : [] })) !== null)
            result.stored++;
        } else if (i % 11 === 0) await client.invalidate(undefined, { dependencies: ['d'] });
        else await client.query(`k${loop}-${i % 10}`);
      } catch (error) {
        result.threw.push(error);
      }
      result.slowest = Math.max(result.slowest, performance.now() - started);
      result.calls++;
      // Let timers run even when every call answers at once (a down server).
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

async function eventually(check: () => Promise<boolean>, within: number): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > within) throw new Error(`not true within ${within} ms`);
    await sleep(10);
  }
  return performance.now() - started;
}

async function recoverAndStop(client: MemcachedClient, load: Load, probe: number) {
  const back = await eventually(async () => (await client.set('probe', probe)) !== null, 3000);
  await sleep(300);
  const result = await load.stop();
  expect(back).toBeLessThan(2000);
  expect(result.threw).toEqual([]);
  expect(unhandled.reasons).toEqual([]);
  expect(result.slowest).toBeLessThan(TIMEOUT + SLACK);
  return result;
}

const TRANSPORTS: Array<[string, (timeout: number) => TransportFactory]> = [
  ['memjs', (timeout) => memjsTransport({ timeout })],
  ['meta commands', (timeout) => metaTransport({ timeout })],
  ['classic commands (proxy: true)', (timeout) => metaTransport({ proxy: true, timeout })],
  ['meta commands, 3 connections', (timeout) => metaTransport({ connections: 3, timeout })],
];

describe.each(TRANSPORTS)('real faults under load, %s', (_, transport) => {
  let server: RunningMemcached | undefined;
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await server?.stop();
    proxy = undefined;
    server = undefined;
  });

  it('memcached killed and restarted while 16 loops run', async () => {
    server = await startMemcached();
    const port = server.port;
    const client = new MemcachedClient({
      transport: transport(TIMEOUT),
      servers: server.servers,
    });
    const load = startLoad(client);
    await sleep(300);
    process.kill(server.pid, 'SIGKILL');
    await sleep(700);
    server = await startMemcached({ port });
    const result = await recoverAndStop(client, load, 1);
    expect(result.calls).toBeGreaterThan(1000);
    expect(result.stored).toBeGreaterThan(50);
    expect(await client.query('probe')).toBe(1);
    await client.close();
  });

  it.each(['stall', 'cut'] as const)('a proxy that %ss replies mid-frame', async (mode) => {
    server = await startMemcached();
    proxy = await startFaultProxy(server.port);
    const client = new MemcachedClient({
      transport: transport(TIMEOUT),
      servers: [proxy.address],
    });
    const load = startLoad(client);
    await sleep(300);
    proxy.mode = mode;
    await sleep(800);
    proxy.mode = 'pass';
    await recoverAndStop(client, load, 2);
    if (mode === 'cut') expect(proxy.cuts).toBeGreaterThan(0);
    expect(await client.query('probe')).toBe(2);
    await client.close();
  });
});
