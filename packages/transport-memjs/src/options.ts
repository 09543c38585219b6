import type { ConnectionOptions } from 'node:tls';
import { CacheError, checkOptionNames, checkOptionsObject, checkString } from '@lovely-memcached/core';
import {
  COMMON_OPTION_NAMES,
  type CommonTransportOptions,
  checkTlsOption,
  type ResolvedCommonOptions,
  resolveCommonOptions,
  type TlsOption,
  type TransportEvent,
} from '@lovely-memcached/transport-kit';

/**
 * What the transport reports about servers going down and coming back, for logs and metrics.
 *
 * `reason` of `server-down`: `connect` (the connection could not be made; `code` says why, e.g.
 * `ECONNREFUSED`, or the TLS error such as `UNABLE_TO_VERIFY_LEAF_SIGNATURE` or `CERT_HAS_EXPIRED`), `timeout` (no
 * reply within the deadline), `closed` (the server closed the connection with requests pending; `code` when the
 * socket reported an error such as `ECONNRESET`), `closed-before-reply` (closed before answering anything: plain
 * TCP to a TLS-only port, or mutual TLS without an accepted client certificate), `garbage` (a reply that is not
 * memcached's), `auth` (SASL refused).
 */
export type MemjsTransportEvent = TransportEvent;

/** `timeout`, `probeInterval`, `maxItemSize` and `onEvent` are shared with every network transport. */
export interface MemjsTransportOptions extends CommonTransportOptions<MemjsTransportEvent> {
  /**
   * TLS to memcached (`memcached -Z`): `true` for Node's defaults (the system's CAs, the host name checked), or
   * `tls.connect` options (`ca`, `cert`, `key`, `servername`, `rejectUnauthorized`). A certificate the client
   * rejects makes the server down (a `server-down` event, reason `connect`, `code` the TLS error), never a hang;
   * so does a server that refuses the client certificate (reason `closed-before-reply`).
   * @default false
   */
  tls?: TlsOption;
  /**
   * Connections per server; requests go to the least busy one. Measured against `memcached -t 4`: see the
   * README's table for when more than one pays.
   * @default 1
   */
  connections?: number;
  /** SASL PLAIN user name (memcached started with `-S`). @default undefined (no authentication) */
  username?: string;
  /** SASL PLAIN password; never logged nor put in error messages. @default undefined */
  password?: string;
}

export interface ResolvedMemjsOptions extends ResolvedCommonOptions {
  username: string | undefined;
  password: string | undefined;
  tls: ConnectionOptions | undefined;
}

/** Every name `MemjsTransportOptions` has (a name missing here fails the typecheck). */
const MEMJS_OPTION_NAMES = {
  ...COMMON_OPTION_NAMES,
  tls: true,
  connections: true,
  username: true,
  password: true,
} as const satisfies Record<keyof MemjsTransportOptions, true>;

/**
 * The one place defaults are applied and options checked: a bad option fails here, not on first use, and a
 * name it does not know is refused with the closest known one (`timout` → `timeout`).
 */
export function resolveMemjsOptions(options: MemjsTransportOptions = {}): ResolvedMemjsOptions {
  // An array is the server list of `transport: memjsTransport` passed uncalled: the client says what to write.
  if (!Array.isArray(options)) {
    checkOptionsObject('the memjsTransport() options', options);
    checkOptionNames('the memjsTransport() options', options, MEMJS_OPTION_NAMES);
  }
  const { username, password } = options;
  if ((username === undefined) !== (password === undefined)) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `SASL needs both \`username\` and \`password\`: ${username === undefined ? '`username`' : '`password`'} is missing`,
      { context: { option: username === undefined ? 'username' : 'password' } },
    );
  }
  return {
    ...resolveCommonOptions('memjs', options),
    tls: checkTlsOption(options.tls),
    username: username === undefined ? undefined : checkString('username', username),
    password: password === undefined ? undefined : checkString('password', password),
  };
}
