/**
 * Loopback ports for the servers tests start (memcached, Redis, a proxy): a free one from the OS, and whether a
 * server already accepts connections on one.
 */
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';

/** A free TCP port on 127.0.0.1, from the OS. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port from the OS');
  return address.port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` now (a server started for a test is up). */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
