/**
 * Groups of clients for tests that play several processes of one application: clients sharing one namespace,
 * each with its own transport, all closed after the suite; and the setups that run one suite over the memory
 * transport and over a real memcached with both network transports.
 */
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { afterAll, beforeAll } from 'vitest';

export interface GroupSetup {
  /** A new transport factory per client (one per process); the memory setup shares one store. */
  transport: () => TransportFactory;
  servers: string[];
  teardown(): Promise<void>;
}

/**
 * Registers the suite's setup and teardown (call it inside a `describe`); `group(n)` makes n clients sharing a
 * fresh namespace, like n processes of one application.
 */
export function clientGroups(setup: () => Promise<GroupSetup>): (count: number) => MemcachedClient[] {
  let env: GroupSetup;
  const clients: MemcachedClient[] = [];
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await env.teardown();
  });
  return (count) => {
    const ns = `group-${Math.random().toString(36).slice(2)}`;
    return Array.from({ length: count }, () => {
      const made = new MemcachedClient({ transport: env.transport(), servers: env.servers, defaultNS: ns });
      clients.push(made);
      return made;
    });
  };
}

/** One store for every client: clients of the same memory transport share it. */
export async function memorySetup(): Promise<GroupSetup> {
  const memory = memoryTransport();
  return { transport: () => memory, servers: ['127.0.0.1:11211'], teardown: async () => {} };
}

/**
 * Setups for memjs and meta over one real memcached, started by the first and stopped by the last (vitest runs
 * the describes of one file in order); a 2 s deadline, so a loaded machine does not turn reads into misses.
 */
export function networkSetups(): Array<[string, () => Promise<GroupSetup>]> {
  let running: RunningMemcached | undefined;
  const memcached = async () => {
    running ??= await startMemcached();
    return running;
  };
  return [
    [
      'memjs and a real memcached',
      async () => ({
        transport: () => memjsTransport({ timeout: 2000 }),
        servers: (await memcached()).servers,
        teardown: async () => {},
      }),
    ],
    [
      'meta and a real memcached',
      async () => ({
        transport: () => metaTransport({ timeout: 2000 }),
        servers: (await memcached()).servers,
        teardown: async () => {
          await running?.stop();
          running = undefined;
        },
      }),
    ],
  ];
}
