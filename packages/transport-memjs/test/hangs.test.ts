/**
 * The ways memjs 1.3.2 leaves a promise unsettled, reproduced against fake servers on loopback: first shown to
 * hang raw memjs, then shown to settle through our transport within its deadline, with the server used again
 * once it behaves.
 */
import memjs from 'memjs';
import { afterEach, describe, expect, it } from 'vitest';
import { memjsTransport } from '../src';
import { type FakeMode, type FakeServer, startFakeServer } from './support/fake-server';

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

async function rawMemjs(mode: FakeMode) {
  fake = await startFakeServer(mode);
  // memjs logs every failure with console.log; keep the test output readable.
  const client = memjs.Client.create(fake.address, {
    retries: 0,
    timeout: TIMEOUT / 1000,
    conntimeout: TIMEOUT / 1000,
    logger: { log: () => {} },
  });
  return { client, fake };
}

describe('memjs 1.3.2 alone hangs', () => {
  it('when the server closes the socket while a request is pending (memjs #162)', async () => {
    const { client } = await rawMemjs('close');
    expect(
      await within(
        client.get('k').catch(() => 'rejected'),
        1500,
      ),
    ).toBe(NEVER);
    client.close();
  });

  it('after a partial reply: every later request times out or hangs (memjs #117, #89, #171)', async () => {
    const { client, fake } = await rawMemjs('half-frame');
    await within(
      client.get('k').catch(() => 'rejected'),
      1500,
    );
    fake.mode = 'healthy';
    expect(
      await within(
        client.get('k2').catch(() => 'rejected'),
        1500,
      ),
    ).toBe(NEVER);
    client.close();
  });
});

describe('our transport settles every call within its deadline', () => {
  const transportFor = (server: FakeServer) =>
    memjsTransport({ timeout: TIMEOUT, probeInterval: 50 })([server.address]);

  it.each<FakeMode>(['close', 'stall', 'half-frame', 'garbage'])(
    'when the server does "%s"',
    async (mode) => {
      fake = await startFakeServer(mode);
      const transport = transportFor(fake);
      const [item, ms] = await elapsed(() => transport.get('k'));
      expect(item).toBeUndefined();
      expect(ms).toBeLessThan(TIMEOUT + 400);
      const [status] = await elapsed(() => transport.set('k', new Uint8Array([1])));
      expect(status).toBe('unavailable');
      await transport.close();
    },
  );

  it.each<FakeMode>(['close', 'stall', 'half-frame', 'garbage'])(
    'and uses the server again once it behaves, after "%s"',
    async (mode) => {
      fake = await startFakeServer(mode);
      const transport = transportFor(fake);
      // A burst of requests in flight when things go wrong: all of them settle.
      const burst = await within(
        Promise.all(Array.from({ length: 20 }, (_, i) => transport.get(`k${i}`))),
        TIMEOUT + 600,
      );
      expect(burst).toEqual(Array(20).fill(undefined));
      fake.mode = 'healthy';
      const deadline = Date.now() + 2000;
      let status = await transport.delete('k');
      while (!status && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        status = await transport.delete('k');
      }
      // The healthy fake answers status 0: a delete that "found" the key.
      expect(status).toBe(true);
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
