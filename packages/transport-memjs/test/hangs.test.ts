/**
 * The ways memjs 1.3.2 leaves a promise unsettled, reproduced against fake servers on loopback: first shown to
 * hang raw memjs, then (the misbehaving-server suite, test/hangs.shared.ts) shown to settle through our
 * transport within its deadline, with the server used again once it behaves.
 */
import memjs from 'memjs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeHangs, NEVER, within } from '../../../test/hangs.shared';
import { memjsTransport } from '../src';
import { type FakeMode, type FakeServer, startFakeServer } from './support/fake-server';

const TIMEOUT = 200;

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

describeHangs('memjsTransport', {
  makeTransport: (options) => memjsTransport(options),
  startFake: startFakeServer,
  misbehaviours: ['close', 'stall', 'half-frame', 'garbage'],
  badInput: ['garbage'],
});
