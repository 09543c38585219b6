/**
 * A fake memcached on loopback that misbehaves on purpose, to reproduce the ways a client can hang:
 * - `close`: closes the socket as soon as a request arrives;
 * - `stall`: accepts requests and never answers;
 * - `half-frame`: answers the first request with half a reply header, then nothing;
 * - `garbage`: answers with bytes that are not a memcached reply.
 * `mode` can be switched while running; `healthy` answers every request with a minimal valid reply.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

export type FakeMode = 'close' | 'stall' | 'half-frame' | 'garbage' | 'healthy';

export interface FakeServer {
  port: number;
  address: string;
  mode: FakeMode;
  requests: number;
  close(): Promise<void>;
}

/** A reply with the request's opcode and opaque, status OK, empty body. */
function okReply(request: Buffer): Buffer {
  const reply = Buffer.alloc(24);
  reply[0] = 0x81;
  reply[1] = request[1] as number;
  request.copy(reply, 12, 12, 16);
  return reply;
}

export async function startFakeServer(mode: FakeMode): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const fake: FakeServer = {
    port: 0,
    address: '',
    mode,
    requests: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      fake.requests++;
      switch (fake.mode) {
        case 'close':
          socket.destroy();
          break;
        case 'stall':
          break;
        case 'half-frame':
          socket.write(okReply(chunk).subarray(0, 12));
          break;
        case 'garbage':
          socket.write('SERVER_ERROR not a binary reply\r\n');
          break;
        case 'healthy':
          // One reply per 24-byte header in the chunk (requests here carry no bodies but keys).
          for (let offset = 0; offset + 24 <= chunk.length; ) {
            const bodyLength = chunk.readUInt32BE(offset + 8);
            socket.write(okReply(chunk.subarray(offset)));
            offset += 24 + bodyLength;
          }
          break;
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  fake.port = address.port;
  fake.address = `127.0.0.1:${address.port}`;
  return fake;
}
