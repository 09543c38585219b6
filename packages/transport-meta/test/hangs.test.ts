/**
 * Servers that misbehave (fake ones on loopback): every call settles within the deadline, bad bytes are never
 * read as a value, the connection is dropped (server-down `garbage`) and every pending call settles, and the
 * server is used again once it behaves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type MetaTransportEvent, metaTransport } from '../src';
import { type FakeMode, type FakeServer, startFakeServer } from './support/fake-text-server';

const TIMEOUT = 200;
const NEVER = Symbol('did not settle');

function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof NEVER> {
  return Promise.race([
    promise,
    new Promise<typeof NEVER>((resolve) => setTimeout(() => resolve(NEVER), ms)),
  ]);
}

async function elapsed<T>(call: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await call();
  return [result, performance.now() - started];
}

let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const MODES: FakeMode[] = [
  'close',
  'stall',
  'half-line',
  'garbage',
  'long-line',
  'short-value',
  'wrong-opaque',
];

describe('metaTransport settles every call within its deadline', () => {
  const transportFor = (server: FakeServer, events: MetaTransportEvent[] = []) =>
    metaTransport({ timeout: TIMEOUT, probeInterval: 50, onEvent: (e) => events.push(e) })([server.address]);

  it.each(MODES)('when the server does "%s"', async (mode) => {
    fake = await startFakeServer(mode);
    const transport = transportFor(fake);
    const [item, ms] = await elapsed(() => transport.get('k'));
    expect(item).toBeUndefined();
    expect(ms).toBeLessThan(TIMEOUT + 400);
    const [status] = await elapsed(() => transport.set('k', new Uint8Array([1])));
    expect(status).toBe('unavailable');
    await transport.close();
  });

  it.each(MODES)('and uses the server again once it behaves, after "%s"', async (mode) => {
    fake = await startFakeServer(mode);
    const transport = transportFor(fake);
    // A burst of requests in flight when things go wrong: all of them settle, none with a value.
    const burst = await within(
      Promise.all([
        ...Array.from({ length: 10 }, (_, i) => transport.get(`k${i}`)),
        transport.getMulti?.(Array.from({ length: 10 }, (_, i) => `m${i}`)),
        transport.delete('d'),
        transport.incr('n', 1),
      ]),
      TIMEOUT + 600,
    );
    expect(burst).toEqual([...Array(10).fill(undefined), new Map(), false, undefined]);
    fake.mode = 'healthy';
    const deadline = Date.now() + 2000;
    let status = await transport.set('k', new Uint8Array([1]));
    while (status !== 'stored' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = await transport.set('k', new Uint8Array([1]));
    }
    expect(status).toBe('stored');
    // A quiet delete answered by `MN` alone: done.
    expect(await transport.delete('k')).toBe(true);
    await transport.close();
  });

  it.each(['garbage', 'long-line', 'short-value', 'wrong-opaque'] as const)(
    'bad input ("%s") drops the connection at once, as garbage, without waiting for the deadline',
    async (mode) => {
      fake = await startFakeServer(mode);
      const events: MetaTransportEvent[] = [];
      const transport = transportFor(fake, events);
      const [items, ms] = await elapsed(() => Promise.all([transport.get('a'), transport.get('b')]));
      expect(items).toEqual([undefined, undefined]);
      expect(ms).toBeLessThan(TIMEOUT);
      expect(events[0]).toEqual({ type: 'server-down', server: fake.address, reason: 'garbage' });
      expect(transport.reachable?.('a')).toBe(false);
      await transport.close();
    },
  );

  it('a request right after a timeout is not orphaned by the old socket closing', async () => {
    fake = await startFakeServer('stall');
    const transport = transportFor(fake);
    const first = transport.get('a');
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT + 20));
    fake.mode = 'healthy';
    const second = transport.get('b');
    expect(await within(first, 1000)).toBeUndefined();
    expect(await within(second, 1000)).not.toBe(NEVER);
    await transport.close();
  });
});
