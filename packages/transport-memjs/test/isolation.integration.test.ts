/**
 * Faults stay scoped to what failed: one probe per down server (no leaked sockets), a bad argument fails only
 * its own call, a throwing `onEvent` breaks nothing, and options are checked when the transport is made.
 */
import { CacheError, InvalidKeyError } from '@lovely-memcached/core';
import { freePort, type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { settledConnections } from '../../../test/support/connections';
import { expectWarnings } from '../../../test/support/expected-warnings';
import { type MemjsTransportEvent, memjsTransport } from '../src';
import { startFakeServer } from './support/fake-server';

// Servers that never answered and a throwing onEvent are what this file provokes: their warnings are expected.
const expected = expectWarnings('LOVELY_MEMCACHED_UNREACHABLE', 'LOVELY_MEMCACHED');

const running: RunningMemcached[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()));
});
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const connectionsOf = (server: RunningMemcached) => settledConnections(server, memjsTransport());

describe('one probe per down server', () => {
  it('five concurrent urgent deletes to a server that came back: one probe, one server-up, nothing left open', async () => {
    const port = await freePort();
    const events: MemjsTransportEvent[] = [];
    const transport = memjsTransport({ timeout: 200, probeInterval: 60_000, onEvent: (e) => events.push(e) })(
      [`127.0.0.1:${port}`],
    );
    await transport.get('k'); // refused: the server is marked down
    expect(events.map((e) => e.type)).toEqual(['server-down']);
    const server = await startMemcached({ port });
    running.push(server);
    const baseline = await connectionsOf(server);

    const deleted = await Promise.all(
      Array.from({ length: 5 }, (_, i) => transport.delete(`k${i}`, { urgent: true })),
    );
    expect(deleted).toEqual([false, false, false, false, false]);
    // Back in use once the deletes it missed (remembered while it was down) are applied, a round trip later.
    for (let i = 0; i < 100 && events.length < 3; i++) await sleep(10);
    expect(events.map((e) => e.type)).toEqual(['server-down', 'replayed', 'server-up']);
    expect(await connectionsOf(server)).toBe(baseline + 1);

    await transport.close();
    await sleep(100);
    expect(await connectionsOf(server)).toBe(baseline);
  });
});

describe('reachable(key)', () => {
  it('false while the key’s server is marked down, true once a probe finds it back, false after close', async () => {
    const port = await freePort();
    const events: MemjsTransportEvent[] = [];
    const transport = memjsTransport({ timeout: 200, probeInterval: 30, onEvent: (e) => events.push(e) })([
      `127.0.0.1:${port}`,
    ]);
    expect(transport.reachable?.('k')).toBe(true); // nothing known yet
    await transport.get('k');
    expect(transport.reachable?.('k')).toBe(false);
    expect(transport.reachable?.('has space')).toBe(false); // a question, not a request: never throws
    const server = await startMemcached({ port });
    running.push(server);
    for (let waited = 0; !events.some((e) => e.type === 'server-up') && waited < 3000; waited += 20) {
      await sleep(20);
    }
    expect(transport.reachable?.('k')).toBe(true);
    await transport.close();
    expect(transport.reachable?.('k')).toBe(false);
    expect(await transport.get('k')).toBeUndefined();
  });
});

describe('a bad argument fails only its own call', () => {
  it('incr by a fraction and touch beyond 32 bits reject with a CacheError; nothing else is disturbed', async () => {
    const server = await startMemcached();
    running.push(server);
    const events: MemjsTransportEvent[] = [];
    const transport = memjsTransport({ timeout: 150, onEvent: (e) => events.push(e) })(server.servers);
    await transport.set('n', Buffer.from('1'));
    await transport.set('other', Buffer.from('value'));

    const inFlight = transport.get('other');
    const incr = await transport.incr('n', 1.5).catch((error: unknown) => error);
    const touch = await transport.touch('n', 2 ** 33).catch((error: unknown) => error);
    const flags = await transport.set('n', Buffer.from('2'), { flags: -1 }).catch((error: unknown) => error);
    for (const error of [incr, touch, flags]) {
      expect(error).toBeInstanceOf(CacheError);
      expect((error as CacheError).code).toBe('ERR_INVALID_OPTION');
    }
    expect((incr as Error).message).toMatch(/delta/);
    expect((touch as Error).message).toMatch(/exptime/);
    expect(Buffer.from((await inFlight)?.value ?? []).toString()).toBe('value');

    await sleep(400); // well past the deadline an orphaned request would have hit
    expect(events).toEqual([]);
    expect(Buffer.from((await transport.get('other'))?.value ?? []).toString()).toBe('value');
    expect(await transport.incr('n', 2)).toBe(3n);
    await transport.close();
  });

  it('rejects keys memcached refuses with InvalidKeyError', async () => {
    const transport = memjsTransport()(['127.0.0.1:1']);
    for (const key of ['', 'has space', 'x'.repeat(251), 'tab\tkey']) {
      await expect(transport.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
    }
    await transport.close();
  });
});

describe('user callbacks are isolated', () => {
  it('a throwing onEvent becomes one process warning, never an uncaught exception', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const port = await freePort();
      const transport = memjsTransport({
        timeout: 100,
        probeInterval: 30,
        onEvent: () => {
          throw new Error('logger broke');
        },
      })([`127.0.0.1:${port}`]);
      await expect(transport.get('k')).resolves.toBeUndefined();
      const server = await startMemcached({ port });
      running.push(server);
      await sleep(300); // the probe finds it back: a second throwing event
      await expect(transport.set('k', Buffer.from('v'))).resolves.toBe('stored');
      await transport.close();
      expect(uncaught).toEqual([]);
      expect(expected.warnings.filter((w) => /onEvent/.test(w.message))).toHaveLength(1);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

describe('options are checked when the transport is made', () => {
  it.each([
    [{ timeout: Number.NaN }, 'timeout'],
    [{ timeout: 0 }, 'timeout'],
    [{ timeout: -1 }, 'timeout'],
    [{ probeInterval: Number.POSITIVE_INFINITY }, 'probeInterval'],
    // Beyond setTimeout's 32-bit limit Node fires after 1 ms instead: every call would time out at once.
    [{ timeout: 2 ** 31 }, 'timeout'],
    [{ probeInterval: 1e10 }, 'probeInterval'],
    [{ maxItemSize: 10.5 }, 'maxItemSize'],
    [{ maxItemSize: 0 }, 'maxItemSize'],
    [{ username: 'user' }, 'password'],
    [{ onEvent: 'log' }, 'onEvent'],
  ])('%o is refused, naming `%s`', (options, name) => {
    let error: unknown;
    try {
      memjsTransport(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe('ERR_INVALID_OPTION');
    expect((error as Error).message).toContain(`\`${name}\``);
  });

  it('names the option, the unit and the value it got', () => {
    expect(() => memjsTransport({ timeout: Number.NaN })).toThrow(
      /`timeout` must be a finite number of milliseconds > 0 .*got NaN/,
    );
  });

  it('takes the largest delay a timer can wait', () => {
    expect(() => memjsTransport({ timeout: 2 ** 31 - 1, probeInterval: 2 ** 31 - 1 })).not.toThrow();
  });
});

describe('server-down events say why', () => {
  it('a refused connection is reason `connect` with the socket error code', async () => {
    const port = await freePort();
    const events: MemjsTransportEvent[] = [];
    const transport = memjsTransport({ timeout: 200, onEvent: (e) => events.push(e) })([`127.0.0.1:${port}`]);
    await transport.get('k');
    expect(events).toEqual([
      { type: 'server-down', server: `127.0.0.1:${port}`, reason: 'connect', code: 'ECONNREFUSED' },
    ]);
    await transport.close();
  });

  it('a server that closes the connection with a request pending is reason `closed`', async () => {
    const fake = await startFakeServer('close');
    const events: MemjsTransportEvent[] = [];
    const transport = memjsTransport({ timeout: 300, onEvent: (e) => events.push(e) })([fake.address]);
    expect(await transport.get('k')).toBeUndefined();
    expect(events).toMatchObject([{ type: 'server-down', server: fake.address, reason: 'closed' }]);
    await transport.close();
    await fake.close();
  });
});

describe('a transport whose servers were never reachable says so once', () => {
  it('emits one process warning naming the servers and the socket error', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const events: MemjsTransportEvent[] = [];
    const transport = memjsTransport({ timeout: 100, onEvent: (e) => events.push(e) })([
      `127.0.0.1:${a}`,
      `127.0.0.1:${b}`,
    ]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => transport.get(`key-${i}`)));
    await Promise.all(Array.from({ length: 20 }, (_, i) => transport.get(`key-${i}`)));
    await sleep(20);
    const ours = expected.warnings.filter((w) => /unreachable/.test(w.message));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.message).toContain(`127.0.0.1:${a}`);
    expect(ours[0]?.message).toContain(`127.0.0.1:${b}`);
    expect(ours[0]?.message).toContain('ECONNREFUSED');
    expect(ours[0]?.code).toBe('LOVELY_MEMCACHED_UNREACHABLE');
    expect(events.find((e) => e.type === 'server-down')).toMatchObject({ code: 'ECONNREFUSED' });
    await transport.close();
  });
});
