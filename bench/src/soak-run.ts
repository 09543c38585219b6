/**
 * Soak: 60 s of mixed operations from 32 concurrent clients on 3 memcached servers, one server killed and
 * restarted every 10 s. Reports operations per second, calls that threw (must be 0), stale reads after
 * dependency invalidations (must be 0), and the heap before and after. Started by soak.ts (`npm run soak`),
 * once the packages it imports are built.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';

const DEPS = ['d0', 'd1', 'd2', 'd3'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const heapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

interface Written {
  id: number;
  dep: string;
}

export interface SoakOptions {
  seconds: number;
  /** Where soak.md goes. */
  results: string;
}

/** Resolves to whether the soak passed: no call threw, no read was stale. */
export async function runSoak({ seconds, results }: SoakOptions): Promise<boolean> {
  let servers: RunningMemcached[] = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  const addresses = servers.map((s) => s.servers[0] as string);
  const clients = Array.from(
    { length: 32 },
    (_, i) =>
      new MemcachedClient({
        transport: memjsTransport({ timeout: 300 }),
        servers: addresses,
        trackKeys: i < 4,
      }),
  );

  let clock = 0; // a logical clock: every write completion and invalidation start takes a tick
  // write id -> tick its set completed (0 = not completed). A typed array lives outside the JS heap, so the
  // harness's own bookkeeping does not show up in the heap figures, which are about the library.
  const writtenAt = new Uint32Array(16_000_000);
  const lastInvalidationStart = new Map<string, number>(); // dep -> start tick of the latest finished invalidation
  const stats = { ops: 0, threw: 0, stale: 0, hits: 0, restarts: 0, slowestMs: 0 };
  let nextId = 0;
  let running = true;

  const loop = async (client: MemcachedClient, index: number) => {
    for (let i = 0; running; i++) {
      const dep = DEPS[(index + i) % DEPS.length] as string;
      const key = `soak-${(index * 7 + i) % 200}`;
      const started = performance.now();
      try {
        const pick = (i * 2654435761 + index) % 100;
        if (pick < 40) {
          const id = ++nextId;
          if ((await client.set(key, { id, dep } satisfies Written, { dependencies: [dep] })) !== null) {
            if (id < writtenAt.length) writtenAt[id] = ++clock;
          }
        } else if (pick < 96) {
          const horizon = new Map(lastInvalidationStart);
          const found = await client.query<Written>(key);
          if (found !== undefined) {
            stats.hits++;
            const completed = writtenAt[found.id] ?? 0;
            const invalidated = horizon.get(found.dep);
            if (completed > 0 && invalidated !== undefined && completed < invalidated) stats.stale++;
          }
        } else if (pick < 98) {
          const start = ++clock;
          await client.invalidate(undefined, { dependencies: [dep] });
          if ((lastInvalidationStart.get(dep) ?? 0) < start) lastInvalidationStart.set(dep, start);
        } else if (client.trackKeys) {
          await client.keys();
        } else {
          await client.getStatistics();
        }
      } catch {
        stats.threw++;
      }
      stats.slowestMs = Math.max(stats.slowestMs, performance.now() - started);
      stats.ops++;
      if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  };

  await sleep(100);
  const heapBefore = heapMb();
  const startedAt = performance.now();
  const loops = clients.map(loop);
  // Caches (token hints, connections, JIT) fill in the first seconds: the heap once warm is the fair baseline.
  let heapWarm = 0;
  const warm = sleep(Math.min(10_000, seconds * 500)).then(() => {
    heapWarm = heapMb();
  });
  const chaos = (async () => {
    for (let round = 1; performance.now() - startedAt < seconds * 1000 - 10_000; round++) {
      await sleep(10_000);
      const victim = round % servers.length;
      const old = servers[victim] as RunningMemcached;
      process.kill(old.pid, 'SIGKILL');
      await sleep(500);
      servers[victim] = await startMemcached({ port: old.port });
      stats.restarts++;
      process.stderr.write(
        `  t=${((performance.now() - startedAt) / 1000).toFixed(0)}s restarted ${old.servers[0]} (ops so far ${stats.ops})\n`,
      );
    }
  })();
  await sleep(seconds * 1000);
  running = false;
  await Promise.all([...loops, chaos, warm]);
  const elapsed = (performance.now() - startedAt) / 1000;
  await sleep(200);
  const heapAfter = heapMb();
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];

  const summary = {
    seconds: Math.round(elapsed),
    clients: 32,
    servers: 3,
    restarts: stats.restarts,
    opsPerSecond: Math.round(stats.ops / elapsed),
    operations: stats.ops,
    errorFree: stats.ops - stats.threw,
    threw: stats.threw,
    staleReads: stats.stale,
    hits: stats.hits,
    slowestCallMs: Math.round(stats.slowestMs),
    heapBeforeMb: Number(heapBefore.toFixed(1)),
    heapWarmMb: Number(heapWarm.toFixed(1)),
    heapAfterMb: Number(heapAfter.toFixed(1)),
  };
  const text = [
    '# Soak',
    '',
    `${summary.seconds} s, ${summary.clients} clients, ${summary.servers} servers, a server SIGKILLed and restarted every 10 s (${summary.restarts} restarts).`,
    '',
    '| operations/s | operations | error-free | threw | stale reads | hits | slowest call | heap: start → warm (10 s) → end |',
    '|---:|---:|---:|---:|---:|---:|---:|---|',
    `| ${summary.opsPerSecond.toLocaleString('en-US')} | ${summary.operations.toLocaleString('en-US')} | ${summary.errorFree.toLocaleString('en-US')} | ${summary.threw} | ${summary.staleReads} | ${summary.hits.toLocaleString('en-US')} | ${summary.slowestCallMs} ms | ${summary.heapBeforeMb} → ${summary.heapWarmMb} → ${summary.heapAfterMb} MB |`,
    '',
  ].join('\n');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'soak.md'), text);
  process.stdout.write(`${text}\n`);
  process.stderr.write(`written to ${join(results, 'soak.md')}\n`);
  return summary.threw === 0 && summary.staleReads === 0;
}
