/**
 * A loopback TCP proxy in front of a real memcached that can stall replies, cut connections mid-frame, swallow
 * everything, or refuse connections altogether, and be restored on the same port (a partition: the server keeps
 * its data).
 * - `pass`: forwards both ways;
 * - `stall`: keeps forwarding requests but holds every reply back (the server seems hung);
 * - `cut`: forwards half of the next reply chunk, then destroys the connection (a frame cut in two);
 * - `blackhole`: accepts connections and swallows everything both ways (a partition that drops packets: requests
 *   never reach the server, calls wait out their deadline);
 * - `refuse()`: every connection dropped and the port closed (connections refused) until `restore()`, which
 *   listens on the same port again.
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'cut' | 'blackhole';

export interface FaultProxy {
  address: string;
  port: number;
  mode: ProxyMode;
  cuts: number;
  /** Drops every connection and stops listening: connections are refused until `restore()`. */
  refuse(): Promise<void>;
  /** Back to `pass`, listening again on the same port if `refuse()` closed it. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamPort: number): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  const stop = async () => {
    const closing = server;
    server = undefined;
    dropAll();
    if (closing === undefined) return;
    closing.close();
    await once(closing, 'close');
  };
  const listen = async (port: number) => {
    const listening = createServer((client) => {
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
      client.on('data', (chunk) => {
        if (proxy.mode !== 'blackhole') upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (proxy.mode === 'pass') client.write(chunk);
        else if (proxy.mode === 'cut') {
          proxy.cuts++;
          client.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)), () => client.destroy());
        }
        // 'stall' and 'blackhole': the reply is swallowed.
      });
    });
    listening.listen(port, '127.0.0.1');
    await once(listening, 'listening');
    server = listening;
    const address = listening.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  };
  const proxy: FaultProxy = {
    address: '',
    port: 0,
    mode: 'pass',
    cuts: 0,
    refuse: stop,
    async restore() {
      proxy.mode = 'pass';
      if (server === undefined) await listen(proxy.port);
    },
    close: stop,
  };
  proxy.port = await listen(0);
  proxy.address = `127.0.0.1:${proxy.port}`;
  return proxy;
}
