/**
 * One factory call across processes: 4 node processes × 25 callers on one cold key, each factory taking
 * 300–400 ms, against a real memcached. Exactly one factory call in all, one value seen by every caller.
 *
 * And `getOrSetMany` across processes: 4 processes asking at one moment for overlapping cold sets of keys (over
 * memjs, with leases beside the entry, and meta, with server-side leases): the keys handed to every factory
 * call of every process add up to exactly the distinct keys asked for, each once, and every process gets for
 * each key the value of the one process that computed it.
 */
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManyChildMessage, ManyChildResult, ManyParentMessage } from './support/get-or-set-many-child';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./support/get-or-set-child.ts', import.meta.url));
const manyChild = fileURLToPath(new URL('./support/get-or-set-many-child.ts', import.meta.url));
/** As the other children: TypeScript through tsx, the workspace packages from source. */
const execArgv = ['--conditions=@lovely-memcached/source', '--import', 'tsx'];

describe('getOrSet across processes (real memcached)', () => {
  let memcached: RunningMemcached;
  beforeAll(async () => {
    memcached = await startMemcached();
  });
  afterAll(() => memcached.stop());

  it('runs the factory once for 4 processes × 25 callers on a cold key', async () => {
    const ns = `stampede-${Math.random().toString(36).slice(2)}`;
    // Every process starts its callers at the same moment, once all have loaded.
    const startAt = Date.now() + 3000;
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ['--conditions=@lovely-memcached/source', '--import', 'tsx', child], {
          env: {
            ...process.env,
            SERVERS: memcached.servers.join(','),
            NS: ns,
            CALLERS: '25',
            START_AT: String(startAt),
          },
          timeout: 30_000,
        }),
      ),
    );
    const results = outputs.map(
      ({ stdout }) => JSON.parse(stdout) as { factoryCalls: number; values: string[] },
    );
    expect(results.reduce((sum, r) => sum + r.factoryCalls, 0)).toBe(1);
    const seen = new Set(results.flatMap((r) => r.values));
    expect(seen.size).toBe(1);
    expect([...seen][0]).toMatch(/^computed by \d+$/);
  }, 60_000);
});

/** 48 keys; process p asks for a window of 24 of them and, at once, for that window shifted by 4, reversed. */
const KEY_COUNT = 48;
const keyName = (i: number) => `k${String(i % KEY_COUNT).padStart(2, '0')}`;
function keyListsOf(p: number): string[][] {
  const window = (from: number) => Array.from({ length: 24 }, (_, i) => keyName(from + i));
  return [window(p * 8), window(p * 8 + 4).reverse()];
}

/** Forks the processes, starts them at one moment once all have loaded, and collects their results. */
async function runManyChildren(
  servers: readonly string[],
  transport: 'memjs' | 'meta',
  processes: number,
): Promise<ManyChildResult[]> {
  const ns = `many-${transport}-${Math.random().toString(36).slice(2)}`;
  const children: ChildProcess[] = [];
  const readies: Promise<void>[] = [];
  const results: Promise<ManyChildResult>[] = [];
  for (let p = 0; p < processes; p++) {
    const forked = fork(manyChild, [], {
      execArgv,
      env: {
        ...process.env,
        SERVERS: servers.join(','),
        NS: ns,
        TRANSPORT: transport,
        KEYS: JSON.stringify(keyListsOf(p)),
      },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    children.push(forked);
    let stderr = '';
    forked.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) =>
      forked.once('exit', (code, signal) =>
        reject(new Error(`getOrSetMany process ${p} exited (${signal ?? code}) early:\n${stderr}`)),
      ),
    );
    exited.catch(() => {});
    const message = (t: ManyChildMessage['t']) =>
      Promise.race([
        new Promise<ManyChildMessage>((resolve) =>
          forked.on('message', (m: ManyChildMessage) => m.t === t && resolve(m)),
        ),
        exited,
      ]);
    readies.push(message('ready').then(() => undefined));
    results.push(message('result').then((m) => (m as Extract<ManyChildMessage, { t: 'result' }>).result));
  }
  try {
    await Promise.all(readies);
    // Loaded and connected-to-be: every process starts its calls at the same wall-clock moment.
    const go: ManyParentMessage = { t: 'go', atMs: Date.now() + 200 };
    for (const forked of children) forked.send(go);
    return await Promise.all(results);
  } finally {
    // They exit once their result is sent; any still running a moment later (a failure elsewhere) are stopped.
    await Promise.all(children.map(exited));
  }
}

function exited(forked: ChildProcess): Promise<void> {
  if (forked.exitCode !== null || forked.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => forked.kill('SIGKILL'), 5000);
    forked.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
  });
}

describe('getOrSetMany across processes (real memcached)', () => {
  let memcached: RunningMemcached;
  beforeAll(async () => {
    memcached = await startMemcached();
  });
  afterAll(() => memcached.stop());

  for (const transport of ['memjs', 'meta'] as const) {
    it(`${transport}: 4 processes ask at once for overlapping cold sets; each missing key is computed once, in all`, async () => {
      const results = await runManyChildren(memcached.servers, transport, 4);
      const asked = new Set(results.flatMap((_, p) => keyListsOf(p).flat()));
      expect(asked.size).toBe(KEY_COUNT);
      // The keys handed to all factories, of all processes, are exactly the distinct keys: each once.
      const handed = results.flatMap((r) => r.handed.flat());
      expect(handed.length, JSON.stringify(results.map((r) => r.handed))).toBe(asked.size);
      expect(new Set(handed)).toEqual(asked);
      // Every process got, for each key, the value of the process whose factory computed it.
      const computedBy = new Map(results.flatMap((r) => r.handed.flat().map((key) => [key, r.pid] as const)));
      results.forEach((r, p) => {
        keyListsOf(p).forEach((keys, call) => {
          expect(r.answers[call]).toEqual(keys.map((key) => `${key} computed by ${computedBy.get(key)}`));
        });
      });
      // They did ask at one moment: some instant had every call of every process in flight.
      const calls = results.flatMap((r) => r.calls);
      expect(Math.max(...calls.map((c) => c.start))).toBeLessThan(Math.min(...calls.map((c) => c.end)));
      console.log(
        `getOrSetMany over ${transport}: keys computed per process ${results.map((r) => r.handed.flat().length).join(', ')}; factory calls per process ${results.map((r) => r.handed.length).join(', ')}`,
      );
    }, 60_000);
  }
});
