/**
 * A loopback TCP proxy in front of a real memcached that can stall replies or cut connections mid-frame.
 * - `pass`: forwards both ways;
 * - `stall`: keeps forwarding requests but holds every reply back (the server seems hung);
 * - `cut`: forwards half of the next reply chunk, then destroys the connection (a frame cut in two).
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'cut';

export interface FaultProxy {
  address: string;
  mode: ProxyMode;
  cuts: number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamPort: number): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = {
    address: '',
    mode: 'pass',
    cuts: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (proxy.mode === 'pass') client.write(chunk);
      else if (proxy.mode === 'cut') {
        proxy.cuts++;
        client.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)), () => client.destroy());
      }
      // 'stall': the reply is swallowed.
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  proxy.address = `127.0.0.1:${address.port}`;
  return proxy;
}
