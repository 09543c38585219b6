import type { ConnectionOptions } from 'node:tls';
import {
  CacheError,
  callSafely,
  checkBoolean,
  checkOptionNames,
  checkOptionsObject,
  checkString,
} from '@lovely-memcached/core';
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
 * What the transport reports, for logs and metrics: servers going down and coming back (as every transport
 * does: `reason` is `connect`, `timeout`, `closed`, `garbage` or `auth`), and a command the servers cannot
 * take (`stats` and `flush` through a proxy) that was answered without reaching them.
 */
export type MetaTransportEvent =
  | TransportEvent
  | { type: 'unsupported'; command: 'stats' | 'flush'; reason: string };

/** `timeout`, `probeInterval`, `maxItemSize` and `onEvent` work as in every network transport. */
export interface MetaTransportOptions extends CommonTransportOptions<MetaTransportEvent> {
  /**
   * Connections per server; each request goes to the least busy one. One pipelined connection is enough for
   * most applications: more help when single large values would hold up small requests behind them.
   * @default 1
   */
  connections?: number;
  /**
   * TLS to memcached (`memcached -Z`): `true` for Node's defaults, or `tls.connect` options (`ca`, `cert`,
   * `key`, `servername`, `rejectUnauthorized`). A certificate the client rejects is a down server (a
   * `server-down` event with reason `connect` and the TLS error's code), never a hang or a throw.
   * @default false
   */
  tls?: TlsOption;
  /**
   * Behind a proxy (twemproxy/nutcracker, mcrouter): only the classic commands proxies route (`gets`, `set`,
   * `add`, `cas`, `append`, `delete`, `incr`, `touch`); `stats` and `flush` answer without reaching the servers
   * (an `unsupported` event), and read-through leases are taken with `add`.
   * @default false
   */
  proxy?: boolean;
  /**
   * Read-through leases kept by memcached itself (`mg … N`) for `getOrSet`; false takes them with `add` as every
   * transport can. Ignored with `proxy`.
   * @default true
   */
  serverLeases?: boolean;
  /** ASCII authentication user (memcached `-Y authfile`); SASL is binary-protocol only. @default undefined */
  username?: string;
  /** ASCII authentication password; never logged nor put in error messages. @default undefined */
  password?: string;
}

export interface ResolvedMetaOptions extends ResolvedCommonOptions {
  tls: ConnectionOptions | undefined;
  proxy: boolean;
  serverLeases: boolean;
  username: string | undefined;
  password: string | undefined;
  /** The same `onEvent`, typed for this transport's own events too. */
  onMetaEvent: (event: MetaTransportEvent) => void;
}

/** Every name `MetaTransportOptions` has (a name missing here fails the typecheck). */
const META_OPTION_NAMES = {
  ...COMMON_OPTION_NAMES,
  connections: true,
  tls: true,
  proxy: true,
  serverLeases: true,
  username: true,
  password: true,
} as const satisfies Record<keyof MetaTransportOptions, true>;

/**
 * The one place defaults are applied and options checked: a bad option fails here, not on first use, and a
 * name it does not know is refused with the closest known one (`timout` → `timeout`).
 */
export function resolveMetaOptions(options: MetaTransportOptions = {}): ResolvedMetaOptions {
  // An array is the server list of `transport: metaTransport` passed uncalled: the client says what to write.
  if (!Array.isArray(options)) {
    checkOptionsObject('the metaTransport() options', options);
    checkOptionNames('the metaTransport() options', options, META_OPTION_NAMES);
  }
  const { username, password } = options;
  if ((username === undefined) !== (password === undefined)) {
    throw new CacheError(
      'ERR_INVALID_OPTION',
      `authentication needs both \`username\` and \`password\`: ${username === undefined ? '`username`' : '`password`'} is missing`,
      { context: { option: username === undefined ? 'username' : 'password' } },
    );
  }
  const common = resolveCommonOptions('meta', options);
  const checkedUser = username === undefined ? undefined : checkString('username', username);
  if (checkedUser !== undefined && /[\s]/.test(checkedUser)) {
    throw new CacheError('ERR_INVALID_OPTION', '`username` must not contain spaces or line breaks', {
      context: { option: 'username' },
    });
  }
  return {
    ...common,
    tls: checkTlsOption(options.tls),
    proxy: options.proxy === undefined ? false : checkBoolean('proxy', options.proxy),
    serverLeases:
      options.serverLeases === undefined ? true : checkBoolean('serverLeases', options.serverLeases),
    username: checkedUser,
    password: password === undefined ? undefined : checkString('password', password),
    // Server events also go to `lovely-memcached:server` (through the common `onEvent`); `unsupported` is ours.
    onMetaEvent: (event) => {
      if (event.type !== 'unsupported') common.onEvent(event);
      else if (options.onEvent !== undefined)
        callSafely('metaTransport `onEvent` threw', options.onEvent, event);
    },
  };
}
