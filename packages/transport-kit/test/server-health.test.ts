/**
 * Server health without any protocol: fake connections that the test breaks and answers by hand, fake timers
 * for the probe interval.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type BreakReason,
  type ConnectionMaker,
  type HealthConnection,
  resolveCommonOptions,
  ServerHealth,
  type TransportEvent,
} from '../src';

class FakeConnection implements HealthConnection {
  broken = false;
  connected = true;
  errorCode: string | undefined;
  load = 0;
  pings: Array<() => void> = [];
  constructor(private readonly onBreak: (reason: BreakReason, connection: FakeConnection) => void) {}
  breakWith(reason: BreakReason, code?: string): void {
    if (this.broken) return;
    this.broken = true;
    this.errorCode = code;
    this.onBreak(reason, this);
  }
  close(): void {
    this.breakWith('closed-by-client');
  }
}

function setup(connections = 1) {
  const opened: FakeConnection[] = [];
  const events: TransportEvent[] = [];
  const maker: ConnectionMaker<FakeConnection> = {
    open: (onBreak) => {
      const connection = new FakeConnection(onBreak);
      opened.push(connection);
      return connection;
    },
    ping: (connection, onAnswer) => connection.pings.push(onAnswer),
  };
  const options = resolveCommonOptions('fake', {
    probeInterval: 100,
    connections,
    onEvent: (event: TransportEvent) => events.push(event),
  });
  return { health: new ServerHealth('127.0.0.1:1', maker, options), opened, events };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ServerHealth', () => {
  it('opens a connection on first use and keeps using it', () => {
    const { health, opened } = setup();
    const first = health.acquire();
    expect(health.acquire()).toBe(first);
    expect(opened).toHaveLength(1);
  });

  it('with several connections, the least busy one takes the next request', () => {
    const { health, opened } = setup(3);
    const a = health.acquire() as FakeConnection;
    a.load = 5;
    const b = health.acquire() as FakeConnection;
    b.load = 1;
    const c = health.acquire() as FakeConnection;
    c.load = 2;
    expect(opened).toHaveLength(3);
    expect(health.acquire()).toBe(b);
  });

  it('a broken connection marks the server down, closes its siblings, and one probe brings it back', () => {
    const { health, opened, events } = setup(2);
    const a = health.acquire() as FakeConnection;
    const b = health.acquire() as FakeConnection;
    a.breakWith('timeout');
    expect(b.broken).toBe(true);
    expect(health.reachable).toBe(false);
    expect(health.acquire()).toBeUndefined();
    expect(events).toEqual([{ type: 'server-down', server: '127.0.0.1:1', reason: 'timeout' }]);

    vi.advanceTimersByTime(100);
    expect(opened).toHaveLength(3);
    const probe = opened[2] as FakeConnection;
    // Urgent requests ride on the probe in flight: no second probe.
    expect(health.acquire(true)).toBe(probe);
    expect(health.acquire(true)).toBe(probe);
    expect(opened).toHaveLength(3);
    probe.pings[0]?.();
    expect(health.reachable).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'server-up', server: '127.0.0.1:1' });
    expect(health.acquire()).toBe(probe);
  });

  it('an unanswered probe is retried after probeInterval, never two at a time', () => {
    const { health, opened } = setup();
    (health.acquire() as FakeConnection).breakWith('connect', 'ECONNREFUSED');
    vi.advanceTimersByTime(100);
    expect(opened).toHaveLength(2);
    (opened[1] as FakeConnection).breakWith('connect', 'ECONNREFUSED');
    vi.advanceTimersByTime(99);
    expect(opened).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(opened).toHaveLength(3);
    expect(health.neverReached).toBe(false); // fake connections say they connected
    health.close();
    expect((opened[2] as FakeConnection).broken).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(opened).toHaveLength(3);
  });

  it('an idle connection closed by the server is replaced, not a server-down', () => {
    const { health, opened, events } = setup();
    (health.acquire() as FakeConnection).breakWith('idle-closed');
    expect(health.reachable).toBe(true);
    expect(health.acquire()).toBe(opened[1]);
    expect(events).toEqual([]);
  });
});

describe('resolveCommonOptions', () => {
  it.each([
    ['timeout', Number.NaN],
    ['timeout', 0],
    ['probeInterval', 2 ** 31],
    ['connections', 0],
    ['connections', 1.5],
    ['maxItemSize', 10],
    ['onEvent', 'log'],
  ])('refuses %s = %s with ERR_INVALID_OPTION naming it', (option, value) => {
    expect(() => resolveCommonOptions('fake', { [option]: value })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(option) }),
    );
  });
});
