/**
 * A worker process of a history over a network transport: its clients and workers, the oracle reached over
 * IPC, its history sent back when the run ends. Started by run-history.ts with `fork`; its settings come in
 * HISTORY_CHILD (JSON), the start signal and the oracle's answers over the IPC channel.
 */
import { sleepUntil } from './clock';
import type { HistoryEvent } from './history';
import { type ParentMessage, remoteOracle, send } from './ipc';
import { makeKeyspace } from './keyspace';
import { deriveSeed, seededRandom } from './random';
import {
  type HistoryL1Options,
  type HistoryTransportOptions,
  makeClients,
  type NetworkTransport,
  networkTransport,
} from './transports';
import { runWorker } from './workload';

export interface ChildSettings {
  transport: NetworkTransport;
  servers: string[];
  processIndex: number;
  clients: number;
  workersPerClient: number;
  seed: number;
  prefix: string;
  sanity: boolean;
  deadlineMs: number;
  transportOptions?: HistoryTransportOptions;
  l1?: HistoryL1Options;
}

const { HISTORY_CHILD = 'null' } = process.env;
const settings = JSON.parse(HISTORY_CHILD) as ChildSettings | null;
if (settings === null) throw new Error('HISTORY_CHILD is not set: this file is run by run-history.ts');

try {
  const clients = makeClients(
    () => networkTransport(settings.transport, settings.deadlineMs, settings.transportOptions),
    settings.servers,
    settings.clients,
    settings.l1,
  );
  const oracle = remoteOracle();
  const started = new Promise<{ atUs: number; untilUs: number }>((resolve) => {
    process.on('message', (message: ParentMessage) => {
      if (message.t === 'start') resolve(message);
    });
  });
  await send({ t: 'ready' });
  const { atUs, untilUs } = await started;
  await sleepUntil(atUs);

  const history: HistoryEvent[] = [];
  const keyspace = makeKeyspace(settings.prefix);
  const p = settings.processIndex;
  await Promise.all(
    clients.flatMap((client, c) =>
      Array.from({ length: settings.workersPerClient }, (_, w) =>
        runWorker({
          actor: { worker: `p${p}c${c}w${w}`, client: `p${p}c${c}`, pid: process.pid },
          client,
          oracle,
          keyspace,
          random: seededRandom(deriveSeed(settings.seed, (p * settings.clients + c) * 100 + w)),
          untilUs,
          history,
          sanity: settings.sanity,
          allowInvalidateAll: settings.transport !== 'meta-proxy',
        }),
      ),
    ),
  );
  await Promise.all(clients.map((client) => client.close()));
  await send({ t: 'history', events: history });
  process.disconnect();
} catch (error) {
  await send({ t: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  process.disconnect();
}
