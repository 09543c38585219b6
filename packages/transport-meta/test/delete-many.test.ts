/**
 * `deleteMany` against a fake server: an error line in answer to some deletes settles the call without breaking
 * the batch or the connection, and behind a proxy the classic deletes of a server leave in one write.
 */
import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type MetaTransportEvent, metaTransport } from '../src';
import { type FakeServer, startFakeServer } from './support/fake-text-server';

const TIMEOUT = 1000;

let fake: FakeServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await fake?.close();
  fake = undefined;
});

describe.each([
  ['meta commands', { proxy: false }],
  ['classic commands (proxy: true)', { proxy: true }],
] as const)('deleteMany over %s', (_, options) => {
  it('settles when the server answers its deletes with errors, and the connection stays in step', async () => {
    fake = await startFakeServer('delete-errors');
    const events: MetaTransportEvent[] = [];
    const transport = metaTransport({ ...options, timeout: TIMEOUT, onEvent: (e) => events.push(e) })([
      fake.address,
    ]);
    const keys = Array.from({ length: 20 }, (_, i) => `err-${i}`);
    const started = performance.now();
    await transport.deleteMany?.(keys);
    // Answered, not left to the deadline.
    expect(performance.now() - started).toBeLessThan(TIMEOUT / 2);
    expect(fake.lines.filter((line) => /^(md|delete) /.test(line))).toHaveLength(keys.length);
    // The next replies still answer the right requests on the same connection: nothing was dropped.
    expect(await transport.set('after', Buffer.from('v'))).toBe('stored');
    expect(await transport.get('after')).toBeUndefined();
    expect(events).toEqual([]);
    await transport.close();
  });
});

it('behind a proxy, the deletes of one server leave in one write', async () => {
  fake = await startFakeServer('healthy');
  const transport = metaTransport({ proxy: true, timeout: TIMEOUT })([fake.address]);
  // Connected first, so the only writes counted are the deletes'.
  expect(await transport.set('warm', Buffer.from('v'))).toBe('stored');
  const write = vi.spyOn(Socket.prototype, 'write');
  const keys = Array.from({ length: 50 }, (_, i) => `one-write-${i}`);
  await transport.deleteMany?.(keys);
  // The fake server writes on sockets too: its replies are left out.
  const written = write.mock.calls
    .map(([bytes]) => String(bytes))
    .filter((bytes) => bytes.includes('delete '));
  expect(written).toEqual([keys.map((key) => `delete ${key}\r\n`).join('')]);
  await transport.close();
});
