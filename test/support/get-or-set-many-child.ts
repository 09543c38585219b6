/**
 * One process of the cross-process getOrSetMany test: says `ready` over IPC, waits for `go` (a wall-clock time
 * every process starts at), then makes CALLS concurrent `getOrSetMany` calls, the i-th of the key lists in
 * KEYS (JSON: string[][]), against SERVERS with TRANSPORT (memjs or meta). Every factory call records the keys
 * it was handed and takes 300–400 ms, as a database would; each value names its key and this process. Sends
 * back `{ handed, answers, calls }` and exits. Run by test/get-or-set-processes.integration.test.ts.
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { metaTransport } from '@lovely-memcached/transport-meta';

export interface ManyChildResult {
  pid: number;
  /** The keys handed to each factory call of this process, in call order. */
  handed: string[][];
  /** Each call's answer, aligned with its keys. */
  answers: Array<Array<string | undefined>>;
  /** When each call started and settled, ms since the epoch (one machine: comparable across processes). */
  calls: Array<{ start: number; end: number }>;
}

export type ManyChildMessage = { t: 'ready' } | { t: 'result'; result: ManyChildResult };
export interface ManyParentMessage {
  t: 'go';
  atMs: number;
}

const { SERVERS = '', NS = 'many', KEYS = '[]', TRANSPORT = 'memjs' } = process.env;
const keyLists = JSON.parse(KEYS) as string[][];

const client = new MemcachedClient({
  transport: TRANSPORT === 'meta' ? metaTransport() : memjsTransport(),
  servers: SERVERS.split(','),
  defaultNS: NS,
});
const handed: string[][] = [];
const load = async (missing: string[]): Promise<string[]> => {
  handed.push([...missing]);
  await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 100));
  return missing.map((key) => `${key} computed by ${process.pid}`);
};

const send = (message: ManyChildMessage) =>
  new Promise<void>((resolve, reject) =>
    process.send?.(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve())),
  );

const go = new Promise<number>((resolve) =>
  process.once('message', (message: ManyParentMessage) => resolve(message.atMs)),
);
await send({ t: 'ready' });
const atMs = await go;
await new Promise((resolve) => setTimeout(resolve, Math.max(0, atMs - Date.now())));
const calls: ManyChildResult['calls'] = [];
const answers = await Promise.all(
  keyLists.map(async (keys) => {
    const start = Date.now();
    const answer = await client.getOrSetMany(keys, load);
    calls.push({ start, end: Date.now() });
    return answer;
  }),
);
await client.close();
await send({ t: 'result', result: { pid: process.pid, handed, answers, calls } });
process.disconnect();
