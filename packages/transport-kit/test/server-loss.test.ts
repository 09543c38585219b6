/**
 * Losing a server without any protocol: the gutter's routing and capped lifetimes, what a down server missed
 * and how it is applied before the server is used again, on fake connections the test breaks and answers by
 * hand (fake timers for the probe interval). Real memcached behind relays: test/server-loss.integration.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type BreakReason,
  type ConnectionMaker,
  capLifetime,
  type HealthConnection,
  MissedWrites,
  resolveCommonOptions,
  type ServerHealth,
  ServerPool,
  type TransportEvent,
} from '../src';

class FakeConnection implements HealthConnection {
  broken = false;
  connected = true;
  errorCode: string | undefined;
  load = 0;
  pings: Array<() => void> = [];
  /** Delete requests in order, each settled by the test. */
  deletes: Array<{ keys: readonly string[]; settle: (ok: boolean) => void }> = [];
  flushes: Array<(ok: boolean) => void> = [];
  constructor(
    readonly server: string,
    private readonly onBreak: (reason: BreakReason, connection: FakeConnection) => void,
  ) {}
  breakWith(reason: BreakReason): void {
    if (this.broken) return;
    this.broken = true;
    for (const { settle } of this.deletes.splice(0)) settle(false);
    for (const settle of this.flushes.splice(0)) settle(false);
    this.onBreak(reason, this);
  }
  close(): void {
    this.breakWith('closed-by-client');
  }
}

function setup(servers: string[], options: Parameters<typeof resolveCommonOptions>[1] = {}) {
  const opened: FakeConnection[] = [];
  const events: TransportEvent[] = [];
  const maker = (server: string): ConnectionMaker<FakeConnection> => ({
    open: (onBreak) => {
      const connection = new FakeConnection(server, onBreak);
      opened.push(connection);
      return connection;
    },
    ping: (connection, onAnswer) => connection.pings.push(onAnswer),
    deleteKeys: (connection, keys) =>
      new Promise<boolean>((settle) => connection.deletes.push({ keys, settle })),
    flush: (connection) => new Promise<boolean>((settle) => connection.flushes.push(settle)),
  });
  const resolved = resolveCommonOptions('fake', {
    probeInterval: 100,
    onEvent: (event: TransportEvent) => events.push(event),
    ...options,
  });
  const pool = new ServerPool(servers, resolved, ({ host, port }) => maker(`${host}:${port}`));
  /** A key that routes to `servers[index]`. */
  const keyOf = (index: number, n = 0) => {
    const found: string[] = [];
    for (let i = 0; found.length <= n; i++) {
      if (pool.route(`k${i}`) === pool.servers[index]) found.push(`k${i}`);
    }
    return found[n] as string;
  };
  /** The server a request went to and the expiry time it would send for `exptime` 0. */
  const ask = (key: string, access: 'read' | 'write' | 'urgent' = 'read') =>
    pool.forKey(
      'get',
      key,
      access,
      undefined as string | undefined,
      async (connection, lifetime) => `${connection.server} T${lifetime(0)}`,
    );
  const flushMicrotasks = () => vi.advanceTimersByTimeAsync(0);
  return { pool, opened, events, keyOf, ask, flushMicrotasks };
}

/** Marks a server down: its connection breaks (refused). */
function breakServer(pool: ServerPool<FakeConnection>, index: number): void {
  ((pool.servers[index] as ServerHealth<FakeConnection>).acquire() as FakeConnection).breakWith('connect');
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the gutter option', () => {
  it.each([
    ['an empty list', { servers: [] }],
    ['no list', { maxLifetime: 5 }],
    ['maxLifetime 0', { servers: ['127.0.0.1:9'], maxLifetime: 0 }],
    ['maxLifetime -1', { servers: ['127.0.0.1:9'], maxLifetime: -1 }],
    ['maxLifetime 1.5', { servers: ['127.0.0.1:9'], maxLifetime: 1.5 }],
    ['maxLifetime "10"', { servers: ['127.0.0.1:9'], maxLifetime: '10' }],
    ['not an object', ['127.0.0.1:9']],
  ])('refuses %s with ERR_INVALID_OPTION naming gutter', (_, gutter) => {
    expect(() => resolveCommonOptions('fake', { gutter: gutter as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('gutter') }),
    );
  });

  it('refuses a gutter server that is also one of the servers (weight or not)', () => {
    expect(() => setup(['127.0.0.1:1', '127.0.0.1:2:3'], { gutter: { servers: ['127.0.0.1:2'] } })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('gutter server 127.0.0.1:2 is also one of'),
      }),
    );
  });

  it('refuses maxQueuedDeletes below 0', () => {
    expect(() => resolveCommonOptions('fake', { maxQueuedDeletes: -1 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('maxQueuedDeletes'),
      }),
    );
  });

  it('caps every expiry time: 0 and longer ones to maxLifetime, absolute times from now, past ones stay past', () => {
    const now = 1_700_000_000;
    expect(capLifetime(0, 10, now)).toBe(10);
    expect(capLifetime(5, 10, now)).toBe(5);
    expect(capLifetime(3600, 10, now)).toBe(10);
    expect(capLifetime(now + 3, 10, now)).toBe(3);
    expect(capLifetime(now + 86_400, 10, now)).toBe(10);
    expect(capLifetime(now - 5, 10, now)).toBe(-1);
    expect(capLifetime(-1, 10, now)).toBe(-1);
  });
});

describe('MissedWrites', () => {
  it('keeps at most max keys; past that, a flush is due and no key is kept', () => {
    const missed = new MissedWrites(2);
    missed.remember('a');
    missed.remember('b');
    missed.remember('a');
    expect(missed.next(10)).toEqual({ keys: ['a', 'b'] });
    missed.remember('c');
    expect(missed.flushDue).toBe('overflow');
    expect(missed.size).toBe(0);
    expect(missed.next(10)).toEqual({ flush: 'overflow' });
    missed.done({ flush: 'overflow' });
    expect(missed.next(10)).toBeUndefined();
  });

  it('a missed flush covers every key; deletes done leave the keys remembered since', () => {
    const missed = new MissedWrites(100);
    missed.remember('a');
    missed.rememberFlush();
    expect(missed.next(10)).toEqual({ flush: 'flush' });
    missed.done({ flush: 'flush' });
    missed.inUse();
    missed.remember('b');
    missed.remember('c');
    const step = missed.next(1);
    expect(step).toEqual({ keys: ['b'] });
    missed.done(step as { keys: string[] });
    expect(missed.next(10)).toEqual({ keys: ['c'] });
  });

  it('a key whose delete the server confirmed is not remembered again until it is in use (restores converge)', () => {
    const missed = new MissedWrites(100);
    missed.remember('a');
    missed.done({ keys: ['a'] });
    missed.remember('a');
    expect(missed.next(10)).toBeUndefined();
    missed.inUse();
    missed.remember('a');
    expect(missed.next(10)).toEqual({ keys: ['a'] });
    missed.done({ flush: 'flush' });
    missed.remember('b');
    expect(missed.next(10)).toBeUndefined();
  });
});

describe('a server that comes back', () => {
  it('is used only once what it missed is applied, on the probe connection, urgent requests riding on it', async () => {
    const { pool, opened, events, keyOf, flushMicrotasks } = setup(['127.0.0.1:1', '127.0.0.1:2']);
    const server = pool.servers[0];
    const [a, b, c] = [keyOf(0, 0), keyOf(0, 1), keyOf(0, 2)];
    breakServer(pool, 0);
    expect(await pool.forKey('set', a, 'write', 'unavailable', async () => 'stored')).toBe('unavailable');
    expect(await pool.forKey('get', b, 'read', 'miss', async () => 'hit')).toBe('miss');
    void pool.forKey('delete', b, 'write', false, async () => true);
    expect(server?.missed.next(10)).toEqual({ keys: [a, b] });

    vi.advanceTimersByTime(100);
    const probe = opened.at(-1) as FakeConnection;
    probe.pings[0]?.();
    // Answered, but not in use before the deletes it missed are confirmed.
    expect(server?.reachable).toBe(false);
    expect(probe.deletes.map((d) => d.keys)).toEqual([[a, b]]);
    expect(server?.acquire()).toBeUndefined();
    expect(server?.acquire(true)).toBe(probe);
    // A write meanwhile goes elsewhere: remembered, and applied before the server is used.
    void pool.forKey('set', c, 'write', 'unavailable', async () => 'stored');
    probe.deletes[0]?.settle(true);
    await flushMicrotasks();
    expect(server?.reachable).toBe(false);
    expect(probe.deletes.map((d) => d.keys)).toEqual([[a, b], [c]]);
    probe.deletes[1]?.settle(true);
    await flushMicrotasks();
    expect(server?.reachable).toBe(true);
    expect(server?.acquire()).toBe(probe);
    expect(events.map((e) => e.type)).toEqual(['server-down', 'replayed', 'server-up']);
    expect(events[1]).toMatchObject({ type: 'replayed', server: '127.0.0.1:1', deletes: 3 });
  });

  it('stays down, its missed writes kept, when the connection fails while they are applied', async () => {
    const { pool, opened, events, keyOf, flushMicrotasks } = setup(['127.0.0.1:1', '127.0.0.1:2']);
    const server = pool.servers[0];
    const a = keyOf(0);
    breakServer(pool, 0);
    await pool.forKey('set', a, 'write', 'unavailable', async () => 'stored');
    vi.advanceTimersByTime(100);
    const first = opened.at(-1) as FakeConnection;
    first.pings[0]?.();
    first.breakWith('closed');
    await flushMicrotasks();
    expect(server?.reachable).toBe(false);
    expect(server?.missed.next(10)).toEqual({ keys: [a] });
    vi.advanceTimersByTime(100);
    const second = opened.at(-1) as FakeConnection;
    expect(second).not.toBe(first);
    second.pings[0]?.();
    second.deletes[0]?.settle(true);
    await flushMicrotasks();
    expect(server?.reachable).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['server-down', 'replayed', 'server-up']);
  });

  it('keeps the batches the server confirmed when the connection fails midway', async () => {
    const { pool, opened, events, flushMicrotasks } = setup(['127.0.0.1:1', '127.0.0.1:2']);
    const server = pool.servers[0];
    breakServer(pool, 0);
    for (let i = 0; i < 1500; i++) server?.missed.remember(`missed-${i}`);
    vi.advanceTimersByTime(100);
    const first = opened.at(-1) as FakeConnection;
    first.pings[0]?.();
    expect(first.deletes.map((d) => d.keys.length)).toEqual([1000, 500]);
    first.deletes[0]?.settle(true);
    await flushMicrotasks();
    first.breakWith('closed');
    await flushMicrotasks();
    expect(server?.missed.size).toBe(500);
    vi.advanceTimersByTime(100);
    const second = opened.at(-1) as FakeConnection;
    second.pings[0]?.();
    expect(second.deletes.map((d) => d.keys)).toEqual([
      Array.from({ length: 500 }, (_, i) => `missed-${1000 + i}`),
    ]);
    second.deletes[0]?.settle(true);
    await flushMicrotasks();
    expect(server?.reachable).toBe(true);
    expect(events.at(-2)).toMatchObject({ type: 'replayed', deletes: 500 });
  });

  it('past maxQueuedDeletes, is flushed before it is used again', async () => {
    const { pool, opened, events, keyOf, flushMicrotasks } = setup(['127.0.0.1:1', '127.0.0.1:2'], {
      maxQueuedDeletes: 2,
    });
    breakServer(pool, 0);
    for (let i = 0; i < 3; i++) await pool.forKey('delete', keyOf(0, i), 'write', false, async () => true);
    vi.advanceTimersByTime(100);
    const probe = opened.at(-1) as FakeConnection;
    probe.pings[0]?.();
    expect(probe.deletes).toEqual([]);
    expect(probe.flushes).toHaveLength(1);
    probe.flushes[0]?.(true);
    await flushMicrotasks();
    expect(pool.servers[0]?.reachable).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['server-down', 'flushed', 'server-up']);
    expect(events[1]).toEqual({ type: 'flushed', server: '127.0.0.1:1', reason: 'overflow' });
  });

  it('a flush it missed is applied when it is back', async () => {
    const { pool, opened, events, flushMicrotasks } = setup(['127.0.0.1:1', '127.0.0.1:2']);
    breakServer(pool, 0);
    const flushing = pool.flushAll();
    const live = opened.find((c) => c.server === '127.0.0.1:2' && !c.broken) as FakeConnection;
    live.flushes[0]?.(true);
    await flushing;
    vi.advanceTimersByTime(100);
    const probe = opened.at(-1) as FakeConnection;
    probe.pings[0]?.();
    probe.flushes[0]?.(true);
    await flushMicrotasks();
    expect(events.map((e) => e.type)).toEqual(['server-down', 'flushed', 'server-up']);
    expect(events[1]).toMatchObject({ reason: 'flush' });
  });
});

describe('the gutter', () => {
  const servers = ['127.0.0.1:1', '127.0.0.1:2'];
  const gutter = { servers: ['127.0.0.1:9'], maxLifetime: 7 };

  it("takes a down server's keys, every expiry capped; its own keys keep theirs; reachable() stays false", async () => {
    const { pool, events, keyOf, ask } = setup(servers, { gutter });
    const [down, up] = [keyOf(0), keyOf(1)];
    expect(await ask(down)).toBe('127.0.0.1:1 T0');
    breakServer(pool, 0);
    expect(events).toContainEqual({ type: 'gutter', server: '127.0.0.1:1', gutter: ['127.0.0.1:9'] });
    expect(await ask(down)).toBe('127.0.0.1:9 T7');
    expect(await ask(up)).toBe('127.0.0.1:2 T0');
    expect(pool.reachable(down)).toBe(false);
    expect([...pool.readGroups([down, up]).keys()].map((s) => s.address)).toEqual([
      '127.0.0.1:9',
      '127.0.0.1:2',
    ]);
  });

  it('a write while its server is down goes to the gutter and is remembered for the server', async () => {
    const { pool, keyOf, ask } = setup(servers, { gutter });
    const key = keyOf(0);
    breakServer(pool, 0);
    expect(await ask(key, 'write')).toBe('127.0.0.1:9 T7');
    expect(pool.servers[0]?.missed.next(10)).toEqual({ keys: [key] });
    expect(pool.gutterServers[0]?.missed.size).toBe(0);
  });

  it('an urgent delete goes to the gutter and to the down server, riding on its probe', async () => {
    const { pool, opened, keyOf } = setup(servers, { gutter });
    const key = keyOf(0);
    breakServer(pool, 0);
    const asked: string[] = [];
    await pool.forKey('delete', key, 'urgent', false, async (connection) => {
      asked.push(connection.server);
      return true;
    });
    expect(asked.sort()).toEqual(['127.0.0.1:1', '127.0.0.1:9']);
    expect(opened.filter((c) => c.server === '127.0.0.1:1')).toHaveLength(2); // the first, and the probe
  });

  it('with the gutter down too: the usual miss, and the write remembered by both', async () => {
    const { pool, keyOf, ask } = setup(servers, { gutter });
    const key = keyOf(0);
    ((pool.gutterServers[0] as ServerHealth<FakeConnection>).acquire() as FakeConnection).breakWith(
      'connect',
    );
    breakServer(pool, 0);
    expect(await ask(key)).toBeUndefined();
    expect(await ask(key, 'write')).toBeUndefined();
    expect(pool.servers[0]?.missed.size).toBe(1);
    expect(pool.gutterServers[0]?.missed.size).toBe(1);
  });

  it('for maxLifetime after a write went to the gutter, writes of that key on its returned server delete it there too', async () => {
    const { pool, opened, keyOf, ask, flushMicrotasks } = setup(servers, { gutter });
    const key = keyOf(0);
    breakServer(pool, 0);
    await ask(key, 'write');
    vi.advanceTimersByTime(100);
    const probe = opened.at(-1) as FakeConnection;
    probe.pings[0]?.();
    probe.deletes[0]?.settle(true);
    await flushMicrotasks();
    expect(pool.servers[0]?.reachable).toBe(true);
    const gutterConnection = opened.find((c) => c.server === '127.0.0.1:9') as FakeConnection;
    const written = ask(key, 'write');
    await flushMicrotasks();
    expect(gutterConnection.deletes.map((d) => d.keys)).toEqual([[key]]);
    gutterConnection.deletes[0]?.settle(true);
    expect(await written).toBe('127.0.0.1:1 T0');
    // Reads never go there, and once maxLifetime (+ the deadline) has passed, writes neither.
    await ask(key);
    vi.advanceTimersByTime(7000 + 500);
    await ask(key, 'write');
    expect(gutterConnection.deletes).toHaveLength(1);
  });
});
