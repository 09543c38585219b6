/**
 * Server-side leases (`mg … N`) against a real memcached: who wins, release by CAS, expiry of a lease whose
 * holder vanished, agreement with `add`-based leases of clients on another transport, what a lease costs in
 * round trips, and why the lease does not live on the entry's own key.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type CommandContext, leaseKey, MemcachedClient, type Transport } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metaTransport } from '../src';

let server: RunningMemcached;
const transports: Transport[] = [];
const meta = (options: Parameters<typeof metaTransport>[0] = {}) => {
  const made = metaTransport(options)(server.servers);
  transports.push(made);
  return made;
};
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
let counter = 0;
const entryKey = () => `lease-test-${process.pid}-${++counter}`;

beforeAll(async () => {
  server = await startMemcached();
});
afterAll(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await server.stop();
});

describe('server-side leases', () => {
  it('one caller wins, the others are told it is held, and after release the next caller wins', async () => {
    const [a, b] = [meta(), meta()];
    const key = entryKey();
    const first = await a.leases?.acquire(key, 5000);
    expect(first?.status).toBe('won');
    const others = await Promise.all([a, b, b].map((t) => t.leases?.acquire(key, 5000)));
    expect(others.map((o) => o?.status)).toEqual(['held', 'held', 'held']);
    if (first?.status === 'won') await first.release();
    expect((await b.leases?.acquire(key, 5000))?.status).toBe('won');
  });

  it('a lease whose holder never releases expires after its lifetime (whole seconds, rounded up)', async () => {
    const t = meta();
    const key = entryKey();
    expect((await t.leases?.acquire(key, 400))?.status).toBe('won');
    expect((await t.leases?.acquire(key, 400))?.status).toBe('held');
    await sleep(2100);
    expect((await t.leases?.acquire(key, 400))?.status).toBe('won');
  });

  it('a release deletes only the lease it won, never a later holder’s', async () => {
    const t = meta();
    const key = entryKey();
    const stale = await t.leases?.acquire(key, 5000);
    // The lease is taken over (as after its expiry): the item is replaced by another holder's.
    await t.delete(leaseKey(key));
    expect((await t.leases?.acquire(key, 5000))?.status).toBe('won');
    if (stale?.status === 'won') await stale.release();
    expect((await t.leases?.acquire(key, 5000))?.status).toBe('held');
  });

  it('agrees with add-based leases of clients on another transport', async () => {
    const memjs = memjsTransport()(server.servers);
    transports.push(memjs);
    const t = meta();
    // memjs's `add` finds our lease item present.
    const key = entryKey();
    expect((await t.leases?.acquire(key, 5000))?.status).toBe('won');
    expect(await memjs.add(leaseKey(key), Buffer.from('owner'), { exptime: 5 })).toBe('exists');
    // Our `mg … N` finds their lease record present: held, not won.
    const other = entryKey();
    expect(await memjs.add(leaseKey(other), Buffer.from('owner'), { exptime: 5 })).toBe('stored');
    expect((await t.leases?.acquire(other, 5000))?.status).toBe('held');
  });

  it('50 callers over 2 meta and 2 memjs clients sharing a namespace: one factory call', async () => {
    const ns = `mixed-${counter++}`;
    const clients = [
      ...[1, 2].map(
        () => new MemcachedClient({ transport: metaTransport(), servers: server.servers, defaultNS: ns }),
      ),
      ...[1, 2].map(
        () => new MemcachedClient({ transport: memjsTransport(), servers: server.servers, defaultNS: ns }),
      ),
    ];
    let calls = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (clients[i % 4] as MemcachedClient).getOrSet('hot', async () => {
          calls++;
          await sleep(100);
          return 'computed';
        }),
      ),
    );
    expect(results).toEqual(Array(50).fill('computed'));
    expect(calls).toBe(1);
    await Promise.all(clients.map((c) => c.close()));
  });

  it('a cold getOrSet learns that it computes in one round trip (add-based leases: three)', async () => {
    const commandsBeforeFactory = async (transport: ReturnType<typeof metaTransport>) => {
      const client = new MemcachedClient({ transport, servers: server.servers });
      const commands: string[] = [];
      const listener = (message: unknown) => commands.push((message as CommandContext).command);
      let before: string[] = [];
      subscribe('tracing:lovely-memcached:command:start', listener);
      try {
        const value = await client.getOrSet(`cold-${counter++}`, () => {
          before = [...commands];
          return 'v';
        });
        expect(value).toBe('v');
      } finally {
        unsubscribe('tracing:lovely-memcached:command:start', listener);
        await client.close();
      }
      return before;
    };
    // The read and the lease are one request (`mg … N`, whose reply carries the placeholder's CAS); without
    // server-side leases a read, an `add` of the placeholder, and a read of its CAS (the write's condition).
    expect(await commandsBeforeFactory(metaTransport())).toEqual(['get']);
    expect(await commandsBeforeFactory(metaTransport({ serverLeases: false }))).toEqual([
      'get',
      'add',
      'get',
    ]);
  });
});

describe('recache and stale marks (mg … R, md … I)', () => {
  it('past its lifetime, memcached hands the refresh to one caller of all clients; the others serve stale at once', async () => {
    const clients = [0, 1, 2].map(
      () => new MemcachedClient({ transport: metaTransport(), servers: server.servers }),
    );
    const key = `recache-${counter++}`;
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(100);
      return `v${calls}`;
    };
    expect(await clients[0]?.getOrSet(key, factory, { lifetime: 1, grace: 30 })).toBe('v1');
    await sleep(2100); // memcached counts whole seconds: past the lifetime by its clock and ours
    const commands: string[] = [];
    const listener = (message: unknown) => commands.push((message as CommandContext).command);
    subscribe('tracing:lovely-memcached:command:start', listener);
    try {
      const answers = await Promise.all(
        clients.flatMap((client) =>
          [1, 2, 3].map(() => client.getOrSet(key, factory, { lifetime: 1, grace: 30 })),
        ),
      );
      expect(answers).toEqual(Array(9).fill('v1'));
      await sleep(300);
    } finally {
      unsubscribe('tracing:lovely-memcached:command:start', listener);
    }
    expect(calls).toBe(2);
    // The refresh was settled by the reads themselves (`R`): no lease beside the entry was asked for.
    expect(commands).not.toContain('lease');
    expect(await clients[1]?.getOrSet(key, factory, { lifetime: 1, grace: 30 })).toBe('v2');
    await Promise.all(clients.map((c) => c.close()));
  });

  it('an entry another client marked stale (md … I) is a miss for query and recomputed by getOrSet, never served', async () => {
    const client = new MemcachedClient({ transport: metaTransport(), servers: server.servers });
    const key = { stale: counter++ };
    const memcachedKey = (await client.set(key, 'old')) as string;
    await rawCommand(`md ${memcachedKey} I T30\r\n`, /^HD/);
    expect(await client.query(key)).toBeUndefined();
    expect(await client.getOrSet(key, () => 'new')).toBe('new');
    expect(await client.query(key)).toBe('new');
    await client.close();
  });
});

describe('raw keys are leased beside the entry, hashed keys on it', () => {
  it.each([
    ['memjs', () => memjsTransport()],
    ['meta', () => metaTransport()],
  ] as const)(
    'a vivified entry key reads as an empty plain-text value under a raw key, a miss under a hashed key (%s readers)',
    async (_, transport) => {
      const client = new MemcachedClient({ transport: transport(), servers: server.servers });
      const raw = `raw-${counter++}`;
      // A raw key's lease item lives at leaseKey(raw); the entry key stays absent.
      expect((await meta().leases?.acquire(raw, 5000))?.status).toBe('won');
      expect(await client.query(raw, { raw: true })).toBeUndefined();
      // Vivifying a raw entry key would show other readers an empty value; under a hashed key it is a miss.
      await rawVivify(raw);
      expect(await client.query(raw, { raw: true })).toBe('');
      const probe = { probe: counter++ };
      const hashed = (await client.set(probe, 'x')) as string;
      await client.invalidate(probe);
      await rawVivify(hashed);
      expect(await client.query(probe)).toBeUndefined();
      await client.close();
    },
  );
});

/** One command by hand over a socket; its reply must match. */
async function rawCommand(command: string, reply: RegExp): Promise<void> {
  const { connect } = await import('node:net');
  const socket = connect({ host: '127.0.0.1', port: server.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('data', (data) => {
      expect(data.toString()).toMatch(reply);
      socket.destroy();
      resolve();
    });
    socket.write(command);
  });
}

/** `mg <key> N30`, by hand: vivify the key itself, as a server-side lease on an absent entry does. */
function rawVivify(key: string): Promise<void> {
  return rawCommand(`mg ${key} N30 c\r\n`, /^HD .*W/);
}
