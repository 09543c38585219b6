/**
 * Opening a socket to a server, in plain TCP or TLS: the rest of a connection does not care which.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import { CacheError, describeValue } from '@lovely-memcached/core';

/** Where to connect: the host without IPv6 brackets, as `net.connect` wants it. */
export interface ServerEndpoint {
  host: string;
  port: number;
}

/** `true` for TLS with Node's defaults (the system's CAs, the host name checked), or Node's TLS options. */
export type TlsOption = boolean | ConnectionOptions;

export interface OpenedSocket {
  socket: Socket;
  /** The event that says the socket can carry requests (`secureConnect` for TLS: after the handshake). */
  readyEvent: 'connect' | 'secureConnect';
}

/** Checked when the transport is made: anything else than a boolean or an options object is refused. */
export function checkTlsOption(value: unknown): ConnectionOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as ConnectionOptions;
  throw new CacheError(
    'ERR_INVALID_OPTION',
    `\`tls\` must be true, false or an object of Node's tls.connect options, got ${describeValue(value)}`,
    { context: { option: 'tls', value } },
  );
}

export function openSocket(endpoint: ServerEndpoint, tls: ConnectionOptions | undefined): OpenedSocket {
  if (tls === undefined) {
    return {
      socket: connectTcp({ host: endpoint.host, port: endpoint.port, noDelay: true }),
      readyEvent: 'connect',
    };
  }
  const socket = connectTls({
    // SNI needs a host name; an IP address is not sent as one (Node warns about it otherwise).
    servername: /^[\d.]+$|:/.test(endpoint.host) ? undefined : endpoint.host,
    ...tls,
    host: endpoint.host,
    port: endpoint.port,
  });
  socket.setNoDelay(true);
  return { socket, readyEvent: 'secureConnect' };
}
