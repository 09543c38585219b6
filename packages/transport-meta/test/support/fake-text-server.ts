/**
 * A fake memcached speaking the text protocol on loopback, that misbehaves on purpose:
 * - `close`: closes the socket as soon as a request arrives;
 * - `stall`: accepts requests and never answers;
 * - `half-line`: answers the first request with half a reply line, then nothing;
 * - `garbage`: answers with a line no memcached writes;
 * - `long-line`: answers with a line longer than any memcached reply, never ended;
 * - `short-value`: announces a 10-byte value and sends 3 bytes (then the next reply);
 * - `wrong-opaque`: answers with the opaque token of another request;
 * - `healthy`: answers like memcached with an empty cache (misses, deletes of absent keys, stores done);
 * - `delete-errors`: as `healthy`, but every delete (`md`, quiet or not, and `delete`) is answered by an error line.
 * `mode` can be switched while running.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

export type FakeMode =
  | 'close'
  | 'stall'
  | 'half-line'
  | 'garbage'
  | 'long-line'
  | 'short-value'
  | 'wrong-opaque'
  | 'healthy'
  | 'delete-errors';

export interface FakeServer {
  port: number;
  address: string;
  mode: FakeMode;
  /** Request lines received (data blocks of storage commands left out). */
  lines: string[];
  close(): Promise<void>;
}

/** The reply of an empty, healthy memcached to one request line (undefined: a quiet request says nothing). */
function healthyReply(line: string): string | undefined {
  const [command = '', ...rest] = line.split(' ');
  const opaque = rest.find((token) => token.startsWith('O'));
  const quiet = rest.includes('q');
  const o = opaque === undefined ? '' : ` ${opaque}`;
  switch (command) {
    case 'mg':
      return quiet ? undefined : `EN${o}\r\n`;
    case 'md':
      return quiet ? undefined : `HD${o}\r\n`;
    case 'ms':
      return quiet ? undefined : `HD${o}\r\n`;
    case 'ma':
      return `NF${o}\r\n`;
    case 'mn':
      return 'MN\r\n';
    case 'version':
      return 'VERSION 1.6.18\r\n';
    case 'get':
    case 'gets':
      return 'END\r\n';
    case 'set':
    case 'add':
      return 'STORED\r\n';
    case 'delete':
      return 'DELETED\r\n';
    default:
      return 'ERROR\r\n';
  }
}

export async function startFakeServer(mode: FakeMode): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const fake: FakeServer = {
    port: 0,
    address: '',
    mode,
    lines: [],
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
    let buffered = Buffer.alloc(0);
    let answered = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n');
        if (end < 0) return;
        const line = buffered.toString('latin1', 0, end);
        let consumed = end + 2;
        const [command, , size] = line.split(' ');
        if (command === 'ms' || command === 'set' || command === 'add') {
          const length = Number(command === 'ms' ? size : line.split(' ')[4]);
          if (buffered.length < consumed + length + 2) return;
          consumed += length + 2;
        }
        buffered = buffered.subarray(consumed);
        fake.lines.push(line);
        const opaque = line.split(' ').find((token) => token.startsWith('O'));
        switch (fake.mode) {
          case 'close':
            socket.destroy();
            return;
          case 'stall':
            break;
          case 'half-line':
            if (answered++ === 0) socket.write('VA 5 f0');
            break;
          case 'garbage':
            socket.write('HTTP/1.1 400 Bad Request\r\n');
            break;
          case 'long-line':
            socket.write(`VA 1 ${'f'.repeat(20_000)}`);
            break;
          case 'short-value':
            socket.write(`VA 10 f0 c1${opaque === undefined ? '' : ` ${opaque}`}\r\nabc\r\nEN O99\r\n`);
            break;
          case 'wrong-opaque':
            socket.write('EN O424242\r\n');
            break;
          case 'healthy':
          case 'delete-errors': {
            const deletes = command === 'md' || command === 'delete';
            const reply =
              fake.mode === 'delete-errors' && deletes
                ? 'SERVER_ERROR out of memory\r\n'
                : healthyReply(line);
            if (reply !== undefined) socket.write(reply);
            break;
          }
        }
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
