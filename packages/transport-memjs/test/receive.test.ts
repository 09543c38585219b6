/**
 * Replies arriving in pieces: a large value comes in many socket chunks, and the read buffer must not be
 * re-joined on every chunk (quadratic near 1 MiB values); the chunks are joined once the frame is complete.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, expect, it, vi } from 'vitest';
import { memjsTransport } from '../src';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A GET reply (status OK, flags 7) for `request`, carrying `value`. */
function getReply(request: Buffer, value: Buffer): Buffer {
  // Built without Buffer.concat, which the first test counts.
  const reply = Buffer.alloc(28 + value.length);
  reply[0] = 0x81;
  reply[4] = 4; // extras: the flags word
  reply.writeUInt32BE(4 + value.length, 8);
  request.copy(reply, 12, 12, 16); // opaque
  reply.writeUInt32BE(7, 24);
  value.copy(reply, 28);
  return reply;
}

let server: Server | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
});

/** Answers every GET with `value`, written in pieces of `piece` bytes with a pause between them. */
async function slowServer(value: Buffer, piece: number): Promise<{ address: string; writes: () => number }> {
  let writes = 0;
  server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', async (request) => {
      const reply = getReply(request, value);
      for (let offset = 0; offset < reply.length; offset += piece) {
        socket.write(reply.subarray(offset, offset + piece));
        writes++;
        await sleep(2);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { address: `127.0.0.1:${address.port}`, writes: () => writes };
}

it('a 1 MiB value in 64 pieces is joined once, not once per piece', async () => {
  const value = Buffer.alloc(1024 * 1024, 'v');
  value.write('first', 0);
  value.write('last', value.length - 4);
  const fake = await slowServer(value, 16 * 1024);
  const transport = memjsTransport({ timeout: 5000 })([fake.address]);
  const concat = vi.spyOn(Buffer, 'concat');
  try {
    const item = await transport.get('big');
    expect(fake.writes()).toBeGreaterThanOrEqual(64);
    expect(Buffer.from(item?.value ?? []).equals(value)).toBe(true);
    expect(item?.flags).toBe(7);
    // One join of the whole frame (and one more were a header split across chunks); the old read buffer was
    // re-joined on every chunk.
    expect(concat.mock.calls.length).toBeLessThanOrEqual(2);
  } finally {
    concat.mockRestore();
    await transport.close();
  }
});

it('a reply whose header arrives a few bytes at a time is read whole', async () => {
  const value = Buffer.from('small value');
  const fake = await slowServer(value, 5);
  const transport = memjsTransport({ timeout: 5000 })([fake.address]);
  const item = await transport.get('k');
  expect(Buffer.from(item?.value ?? []).toString()).toBe('small value');
  // The connection is still in step: a second request is answered too.
  expect(Buffer.from((await transport.get('k'))?.value ?? []).toString()).toBe('small value');
  await transport.close();
});

it('a reply whose body is shorter than its key and extras breaks the connection at once, not at its deadline', async () => {
  server = createServer((socket: Socket) => {
    socket.on('error', () => {});
    socket.on('data', (request) => {
      const reply = getReply(request, Buffer.from('value'));
      reply.writeUInt16BE(200, 2); // a 200-byte key in a 9-byte body: no memcached reply looks like this
      socket.write(reply);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const events: string[] = [];
  const transport = memjsTransport({
    timeout: 5000,
    onEvent: (event) => events.push(`${event.type}:${'reason' in event ? event.reason : ''}`),
  })([`127.0.0.1:${address.port}`]);
  const started = performance.now();
  expect(await transport.get('k')).toBeUndefined();
  expect(performance.now() - started).toBeLessThan(2500);
  expect(events).toContain('server-down:garbage');
  await transport.close();
});
