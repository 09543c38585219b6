/**
 * Servers that misbehave (fake ones on loopback, each transport with its own speaking its protocol), for every
 * network transport: every call settles within the deadline and none with a value; the server is used again
 * once it behaves; bad bytes drop the connection at once (server-down `garbage`, pending calls settled) without
 * waiting for the deadline; a request right after a timeout is not orphaned by the old socket closing.
 */
import type { TransportFactory } from '@lovely-memcached/core';
import { afterEach, describe, expect, it } from 'vitest';

/** A fake server: what the suite needs of one; `mode` can be switched while it runs. */
export interface HangsFake<Mode extends string> {
  address: string;
  mode: Mode | 'stall' | 'healthy';
  close(): Promise<void>;
}

export interface HangsSubject<Mode extends string> {
  makeTransport(options: {
    timeout: number;
    probeInterval: number;
    onEvent: (event: { type: string }) => void;
  }): TransportFactory;
  startFake(mode: Mode | 'stall' | 'healthy'): Promise<HangsFake<Mode>>;
  /** Every way the fake misbehaves (`stall`, answering nothing, among them). */
  misbehaviours: readonly Mode[];
  /** The ones whose bytes cannot be a reply (dropped at once, not at the deadline). */
  badInput: readonly Mode[];
}

const TIMEOUT = 200;
export const NEVER = Symbol('did not settle');

/** `promise`'s outcome, or NEVER when it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof NEVER> {
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

export function describeHangs<Mode extends string>(name: string, subject: HangsSubject<Mode>): void {
  describe(`${name} settles every call within its deadline`, () => {
    let fake: HangsFake<Mode> | undefined;
    afterEach(async () => {
      await fake?.close();
      fake = undefined;
    });

    const transportFor = (server: HangsFake<Mode>, events: Array<{ type: string }> = []) =>
      subject.makeTransport({ timeout: TIMEOUT, probeInterval: 50, onEvent: (e) => events.push(e) })([
        server.address,
      ]);

    it.each(subject.misbehaviours)('when the server does "%s"', async (mode) => {
      fake = await subject.startFake(mode);
      const transport = transportFor(fake);
      const [item, ms] = await elapsed(() => transport.get('k'));
      expect(item).toBeUndefined();
      expect(ms).toBeLessThan(TIMEOUT + 400);
      const [status] = await elapsed(() => transport.set('k', new Uint8Array([1])));
      expect(status).toBe('unavailable');
      await transport.close();
    });

    it.each(subject.misbehaviours)('and uses the server again once it behaves, after "%s"', async (mode) => {
      fake = await subject.startFake(mode);
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
      // Each fake answers a delete as done.
      expect(await transport.delete('k')).toBe(true);
      await transport.close();
    });

    it.each(subject.badInput)(
      'bad input ("%s") drops the connection at once, as garbage, without waiting for the deadline',
      async (mode) => {
        const server = await subject.startFake(mode);
        fake = server;
        const events: Array<{ type: string }> = [];
        const transport = transportFor(server, events);
        const [items, ms] = await elapsed(() => Promise.all([transport.get('a'), transport.get('b')]));
        expect(items).toEqual([undefined, undefined]);
        expect(ms).toBeLessThan(TIMEOUT);
        expect(events[0]).toEqual({ type: 'server-down', server: server.address, reason: 'garbage' });
        expect(transport.reachable?.('a')).toBe(false);
        await transport.close();
      },
    );

    it('a request right after a timeout is not orphaned by the old socket closing', async () => {
      const server = await subject.startFake('stall');
      fake = server;
      const transport = transportFor(server);
      const first = transport.get('a');
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT + 20));
      server.mode = 'healthy';
      const second = transport.get('b');
      expect(await within(first, 1000)).toBeUndefined();
      expect(await within(second, 1000)).not.toBe(NEVER);
      await transport.close();
    });
  });
}
