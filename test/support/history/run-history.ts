/**
 * Runs one history and checks it: workers in this process over the memory transport, or in child processes
 * over a network transport, with the oracle always here (so every version comes from one place).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { type CheckResult, checkHistory, formatReport, summarize } from './check';
import { nowUs } from './clock';
import type { HistoryEvent } from './history';
import { type ChildMessage, type ParentMessage, serveOracle } from './ipc';
import { makeKeyspace } from './keyspace';
import { Oracle } from './oracle';
import { deriveSeed, newSeed, seededRandom } from './random';
import {
  DEFAULT_DEADLINE_MS,
  type HistoryL1Options,
  type HistoryTransport,
  type HistoryTransportOptions,
  makeClients,
} from './transports';
import type { ChildSettings } from './worker-child';
import { runWorker } from './workload';

export interface RunHistoryOptions {
  transport: HistoryTransport;
  /** Required for network transports (the memcached, or the proxy's address). */
  servers?: readonly string[];
  /** Worker processes; with `memory` all clients live in this process, `processes × clientsPerProcess` of them. @default 2 */
  processes?: number;
  /** @default 3 */
  clientsPerProcess?: number;
  /** Concurrent worker loops on each client. @default 2 */
  workersPerClient?: number;
  /** @default 4500 */
  durationMs?: number;
  /** @default HISTORY_SEED, else a random one (printed) */
  seed?: number;
  /** No invalidation while a getOrSet or set is in flight; see `WorkerSetup.sanity`. @default false */
  sanity?: boolean;
  /**
   * Count values of sets that were still in flight when another client's invalidation began as stale (API.md's
   * literal wording; see check.ts). @default HISTORY_STRICT_SETS=1, else false
   */
  strictSets?: boolean;
  /** The network transports' deadline, ms. @default 2000 */
  deadlineMs?: number;
  /** More options of the network transports (a gutter, a probe interval). @default {} */
  transportOptions?: HistoryTransportOptions;
  /**
   * L1 on every client (issue 24; network transports): reads by a client other than the invalidating one may lag an invalidation by
   * `maxStaleMs` (plus 2 ms for the library's millisecond clock); the invalidating client by nothing.
   */
  l1?: HistoryL1Options;
  /**
   * A server lost mid-run (network transports): `cut` `atMs` after the workers start, `restore` `forMs` later,
   * both run here while the workers go on (e.g. a relay in front of one server refusing, then restored).
   */
  outage?: {
    atMs: number;
    forMs: number;
    cut(): Promise<void> | void;
    restore(): Promise<void> | void;
  };
  /** Where the seed is printed before the run (and how long the worker processes took to start). @default console.log */
  log?: (line: string) => void;
}

export interface HistoryRun {
  transport: HistoryTransport;
  seed: number;
  events: HistoryEvent[];
  result: CheckResult;
  /** Transport, mode and seed, as reports start. */
  label: string;
  /** One line of counts. */
  summary: string;
  /** The full report: counts, breakdown, and the first stale reads with their context. */
  report(): string;
}

const CHILD = fileURLToPath(new URL('./worker-child.ts', import.meta.url));
/** The in-memory "servers": two, so keys are spread as over real ones. */
const MEMORY_SERVERS = ['127.0.0.1:21001', '127.0.0.1:21002'];
/** Workers of every process start together, a moment after the last one is ready. */
const START_DELAY_US = 100_000;

export async function runHistory(options: RunHistoryOptions): Promise<HistoryRun> {
  const seed = options.seed ?? seedFromEnv() ?? newSeed();
  const settings = {
    processes: options.processes ?? 2,
    clientsPerProcess: options.clientsPerProcess ?? 3,
    workersPerClient: options.workersPerClient ?? 2,
    durationMs: options.durationMs ?? 4500,
    sanity: options.sanity ?? false,
    deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS,
    // Unique per run, not per seed: a run replayed against the same memcached must not read the last one's values.
    prefix: `h-${randomUUID().slice(0, 8)}`,
  };
  const log = options.log ?? console.log;
  log(
    `history over ${options.transport}${settings.sanity ? ' (sanity mode)' : ''}: HISTORY_SEED=${seed}, ${settings.processes} × ${settings.clientsPerProcess} clients × ${settings.workersPerClient} workers, ${settings.durationMs} ms`,
  );
  const oracle = new Oracle();
  const events =
    options.transport === 'memory'
      ? await inThisProcess(oracle, seed, settings)
      : await inChildren(oracle, seed, log, {
          ...settings,
          transport: options.transport,
          servers: options.servers,
          transportOptions: options.transportOptions,
          outage: options.outage,
          l1: options.l1,
        });
  const strictSets = options.strictSets ?? HISTORY_STRICT_SETS === '1';
  const result = checkHistory(events, {
    strictSets,
    ...(options.l1 === undefined ? {} : { l1StaleUs: (options.l1.maxStaleMs + 2) * 1000 }),
  });
  const label = `${options.transport}${settings.sanity ? ' (sanity)' : ''}${strictSets ? ' (strict sets)' : ''} seed ${seed}`;
  return {
    transport: options.transport,
    seed,
    events,
    result,
    label,
    summary: `${label}: ${summarize(result)}`,
    report: () => formatReport(result, events, { seed, label }),
  };
}

// Destructured: how the test runs are steered from outside (a seed to replay, the strict reading of sets).
const { HISTORY_SEED, HISTORY_STRICT_SETS } = process.env;

function seedFromEnv(): number | undefined {
  const text = HISTORY_SEED;
  if (text === undefined || text === '') return undefined;
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`HISTORY_SEED must be an integer >= 0, got ${text}`);
  return seed;
}

interface Settings {
  processes: number;
  clientsPerProcess: number;
  workersPerClient: number;
  durationMs: number;
  sanity: boolean;
  deadlineMs: number;
  prefix: string;
}

/** memory: clients made with one `memoryTransport()` factory share its store, as clients of one memcached do. */
async function inThisProcess(oracle: Oracle, seed: number, settings: Settings): Promise<HistoryEvent[]> {
  const shared = memoryTransport();
  const keyspace = makeKeyspace(settings.prefix);
  const history: HistoryEvent[] = [];
  const clients: MemcachedClient[] = makeClients(
    () => shared,
    MEMORY_SERVERS,
    settings.processes * settings.clientsPerProcess,
  );
  const untilUs = nowUs() + settings.durationMs * 1000;
  try {
    await Promise.all(
      clients.flatMap((client, i) => {
        const [p, c] = [Math.floor(i / settings.clientsPerProcess), i % settings.clientsPerProcess];
        return Array.from({ length: settings.workersPerClient }, (_, w) =>
          runWorker({
            actor: { worker: `p${p}c${c}w${w}`, client: `p${p}c${c}`, pid: process.pid },
            client,
            oracle: oracle.client(),
            keyspace,
            random: seededRandom(deriveSeed(seed, i * 100 + w)),
            untilUs,
            history,
            sanity: settings.sanity,
            allowInvalidateAll: true,
          }),
        );
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
  return history;
}

async function inChildren(
  oracle: Oracle,
  seed: number,
  log: (line: string) => void,
  settings: Settings & {
    transport: Exclude<HistoryTransport, 'memory'>;
    servers: readonly string[] | undefined;
    transportOptions: HistoryTransportOptions | undefined;
    outage: RunHistoryOptions['outage'];
    l1?: HistoryL1Options | undefined;
  },
): Promise<HistoryEvent[]> {
  const { servers } = settings;
  if (servers === undefined || servers.length === 0) {
    throw new Error(`a history over ${settings.transport} needs \`servers\``);
  }
  const children: ChildProcess[] = [];
  const readies: Promise<void>[] = [];
  const histories: Promise<HistoryEvent[]>[] = [];
  for (let p = 0; p < settings.processes; p++) {
    const childSettings: ChildSettings = {
      transport: settings.transport,
      servers: [...servers],
      processIndex: p,
      clients: settings.clientsPerProcess,
      workersPerClient: settings.workersPerClient,
      seed,
      prefix: settings.prefix,
      sanity: settings.sanity,
      deadlineMs: settings.deadlineMs,
      transportOptions: settings.transportOptions,
      ...(settings.l1 === undefined ? {} : { l1: settings.l1 }),
    };
    // As test/get-or-set-processes.integration.test.ts runs its children: TypeScript through tsx, and the
    // workspace packages read from source through the custom export condition.
    const child = fork(CHILD, [], {
      execArgv: ['--conditions=@lovely-memcached/source', '--import', 'tsx'],
      env: { ...process.env, HISTORY_CHILD: JSON.stringify(childSettings) },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) =>
        reject(new Error(`history worker process ${p} exited (${signal ?? code}) early:\n${stderr}`)),
      );
    });
    exited.catch(() => {});
    readies.push(
      Promise.race([
        new Promise<void>((resolve) =>
          child.on('message', (m: ChildMessage) => m.t === 'ready' && resolve()),
        ),
        exited,
      ]),
    );
    histories.push(
      Promise.race([
        new Promise<HistoryEvent[]>((resolve, reject) =>
          child.on('message', (m: ChildMessage) => {
            if (m.t === 'history') resolve(m.events);
            else if (m.t === 'failed') reject(new Error(`history worker process ${p} failed:\n${m.error}`));
          }),
        ),
        exited,
      ]),
    );
    child.on('message', (m: ChildMessage) => serveOracle(child, oracle, m));
  }
  const guard = setTimeout(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }, settings.durationMs + 60_000);
  try {
    const forked = performance.now();
    await Promise.all(readies);
    log(`${settings.processes} worker processes ready in ${Math.round(performance.now() - forked)} ms`);
    const atUs = nowUs() + START_DELAY_US;
    const start: ParentMessage = { t: 'start', atUs, untilUs: atUs + settings.durationMs * 1000 };
    for (const child of children) child.send(start);
    const outage = settings.outage === undefined ? undefined : loseServer(settings.outage, atUs);
    outage?.catch(() => {}); // awaited below, unless a worker failed first
    const events = (await Promise.all(histories)).flat();
    await outage;
    return events;
  } finally {
    clearTimeout(guard);
    // Children exit once their history is sent; any still running (a failure elsewhere) are stopped.
    await Promise.all(children.map((child) => stopped(child)));
  }
}

/** Runs an outage's `cut` and `restore` at their times after the workers' start (`atUs`, clock.ts). */
async function loseServer(outage: NonNullable<RunHistoryOptions['outage']>, atUs: number): Promise<void> {
  const wait = (us: number) =>
    new Promise((resolve) => setTimeout(resolve, Math.max(0, (us - nowUs()) / 1000)));
  await wait(atUs + outage.atMs * 1000);
  await outage.cut();
  await wait(atUs + (outage.atMs + outage.forMs) * 1000);
  await outage.restore();
}

/** Waits for a child to exit, killing it if it is still running a moment after the run ended. */
function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
  });
}
