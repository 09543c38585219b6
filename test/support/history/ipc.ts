/**
 * The messages between the test process (which holds the oracle) and the worker processes, over the IPC
 * channel `fork` opens, and the oracle client a worker process uses.
 */
import type { ChildProcess } from 'node:child_process';
import type { HistoryEvent } from './history';
import type { LockMode, Oracle, OracleClient } from './oracle';

export type OracleRequest =
  | { op: 'read'; key: string }
  | { op: 'bump'; keys: string[] }
  | { op: 'lock'; mode: LockMode }
  | { op: 'unlock'; mode: LockMode };

export type ChildMessage =
  | { t: 'ready' }
  | ({ t: 'req'; id: number } & OracleRequest)
  | { t: 'history'; events: HistoryEvent[] }
  | { t: 'failed'; error: string };

export type ParentMessage =
  | { t: 'res'; id: number; result: unknown }
  | { t: 'start'; atUs: number; untilUs: number };

/** The parent's side: answers a child's oracle requests, in the order they arrive. */
export function serveOracle(child: ChildProcess, oracle: Oracle, message: ChildMessage): boolean {
  if (message.t !== 'req') return false;
  const reply = (result: unknown) => {
    const res: ParentMessage = { t: 'res', id: message.id, result };
    // A child that already exited cannot be answered; its failure is reported by its exit.
    if (child.connected) child.send(res);
  };
  switch (message.op) {
    case 'read':
      reply(oracle.read(message.key));
      break;
    case 'bump':
      reply(oracle.bump(message.keys));
      break;
    case 'lock':
      void oracle.lock.acquire(message.mode).then(() => reply(true));
      break;
    case 'unlock':
      oracle.lock.release(message.mode);
      reply(true);
      break;
  }
  return true;
}

/** The child's side: an oracle client whose every call is a round trip to the parent. */
export function remoteOracle(): OracleClient {
  const pending = new Map<number, (result: unknown) => void>();
  let nextId = 0;
  process.on('message', (message: ParentMessage) => {
    if (message.t !== 'res') return;
    const settle = pending.get(message.id);
    pending.delete(message.id);
    settle?.(message.result);
  });
  const call = (request: OracleRequest) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      send({ t: 'req', id, ...request });
    });
  return {
    read: async (key) => (await call({ op: 'read', key })) as number,
    bump: async (keys) => (await call({ op: 'bump', keys: [...keys] })) as Record<string, number>,
    lock: async (mode) => {
      await call({ op: 'lock', mode });
    },
    unlock: async (mode) => {
      await call({ op: 'unlock', mode });
    },
  };
}

export function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error('not started with an IPC channel (run by run-history.ts)'));
      return;
    }
    process.send(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}
