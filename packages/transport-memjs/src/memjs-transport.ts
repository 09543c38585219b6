/**
 * `memjsTransport()`: real memcached through memjs's binary protocol encoding, with the connection lifecycle,
 * request matching, deadlines, flags, routing and batching owned here (see connection.ts for why).
 *
 * Keys are routed by libmemcached-compatible weighted ketama, so several servers share keys the way other
 * memcached clients do, and a down server costs only its own keys.
 */
import {
  assertExptime,
  assertFlags,
  CacheError,
  isMemcachedKey,
  type ServerStats,
  type StoreOptions,
  type StoreStatus,
  TRANSPORT_SPECIFICATION_VERSION,
  type Transport,
  type TransportFactory,
  type TransportItem,
  toDelta,
} from '@lovely-memcached/core';
import {
  type Access,
  assertCasUnique,
  type ConnectionMaker,
  type Lifetime,
  rejecting,
  type ServerEndpoint,
  ServerPool,
  withAutoDiscovery,
} from '@lovely-memcached/transport-kit';
import { Connection, type ReplyHandler } from './connection';
import { type MemjsTransportOptions, type ResolvedMemjsOptions, resolveMemjsOptions } from './options';
import {
  incrementRequest,
  keyRequest,
  multiDeleteRequest,
  multiGetRequest,
  Op,
  type Response,
  Status,
  simpleRequest,
  storageRequest,
  touchRequest,
} from './protocol';

/** How server health opens memjs connections, probes with a NOOP, and applies what a server missed. */
function memjsConnections(
  options: ResolvedMemjsOptions,
  { host, port }: ServerEndpoint,
): ConnectionMaker<Connection> {
  /** Why this server refused SASL last: a wrong password, or no SASL at all (memcached without `-S`). */
  let refusal: number | undefined;
  const settings = {
    host,
    port,
    timeout: options.timeout,
    username: options.username,
    password: options.password,
    tls: options.tls,
    onAuthRefused: (status: number) => {
      refusal = status;
    },
  };
  return {
    open: (onBreak) => new Connection(settings, onBreak),
    ping: (connection, onAnswer) =>
      connection.send(
        (opaque) => simpleRequest(Op.NOOP, opaque),
        () => {
          onAnswer();
          return true;
        },
        () => {},
      ),
    deleteKeys: (connection, keys) =>
      new Promise<boolean>((resolve) => {
        // Quiet deletes: only failures (a key not found) answer before the closing NOOP.
        connection.send(
          (opaque) => multiDeleteRequest(keys, opaque),
          (response) => {
            if (response.opcode !== Op.NOOP) return false;
            resolve(true);
            return true;
          },
          () => resolve(false),
        );
      }),
    flush: (connection) =>
      new Promise<boolean>((resolve) => {
        connection.send(
          (opaque) => simpleRequest(Op.FLUSH, opaque),
          (response) => {
            resolve(response.status === Status.OK);
            return true;
          },
          () => resolve(false),
        );
      }),
    authFailedEvent(server) {
      const username = options.username ?? '';
      // Name the user and the server, never the password.
      const error =
        refusal === Status.UNKNOWN_COMMAND
          ? new CacheError(
              'ERR_AUTH',
              `SASL authentication for user ${JSON.stringify(username)} refused at ${server}: the server does not do SASL (memcached started without -S); drop \`username\` and \`password\`, or start memcached with -S`,
              { context: { server, username, reason: 'sasl-not-enabled' } },
            )
          : new CacheError(
              'ERR_AUTH',
              `SASL authentication failed for user ${JSON.stringify(username)} at ${server}: check \`username\` and \`password\` (memcached -S)`,
              { context: { server, username } },
            );
      return { type: 'auth-failed', server, username, error };
    },
  };
}

function storeStatus(response: Response): StoreStatus {
  switch (response.status) {
    case Status.OK:
      return 'stored';
    case Status.KEY_EXISTS:
      return 'exists';
    case Status.KEY_NOT_FOUND:
      return 'not-found';
    case Status.NOT_STORED:
      return 'not-stored';
    case Status.VALUE_TOO_LARGE:
      return 'too-large';
    default:
      return 'unavailable';
  }
}

function toItem(response: Response): TransportItem {
  return {
    value: response.value(),
    flags: response.flags(),
    cas: response.cas(),
  };
}

export function memjsTransport(options: MemjsTransportOptions = {}): TransportFactory {
  const resolved = resolveMemjsOptions(options);

  return withAutoDiscovery(
    (servers: readonly string[]): Transport => {
      const pool = new ServerPool(servers, resolved, (endpoint) => memjsConnections(resolved, endpoint));

      /**
       * One request for `key`'s server (or the gutter while it is down: `build` sends expiry times through the
       * lifetime it gets): `fallback` when it is down or the request fails.
       */
      function call<T>(
        command: string,
        key: string,
        build: (opaque: number, lifetime: Lifetime) => Buffer,
        read: (r: Response) => T,
        fallback: T,
        access: Access = 'read',
      ): Promise<T> {
        return pool.forKey(command, key, access, fallback, (connection, lifetime) =>
          request(connection, (opaque) => build(opaque, lifetime), read, fallback),
        );
      }

      function request<T>(
        connection: Connection,
        build: (opaque: number) => Buffer,
        read: (r: Response) => T,
        fallback: T,
      ): Promise<T> {
        return new Promise<T>((resolve) => {
          connection.send(
            build,
            (response) => {
              resolve(read(response));
              return true;
            },
            () => resolve(fallback),
          );
        });
      }

      function store(
        op: number,
        key: string,
        value: Uint8Array,
        { flags = 0, exptime = 0 }: StoreOptions,
        cas?: bigint,
      ) {
        return rejecting(() => {
          assertFlags(flags);
          assertExptime(exptime);
          if (cas !== undefined) assertCasUnique(cas);
          return call<StoreStatus>(
            cas !== undefined ? 'cas' : op === Op.ADD ? 'add' : 'set',
            key,
            (opaque, lifetime) => storageRequest(op, key, value, flags, lifetime(exptime), opaque, cas),
            storeStatus,
            'unavailable',
            'write',
          );
        });
      }

      /** One request to every reachable server; servers that are down or fail are left out of the answer. */
      function askEveryServer<T>(
        command: string,
        build: (opaque: number) => Buffer,
        handle: (address: string, index: number, resolve: (answer: T) => void) => ReplyHandler,
      ): Promise<T[]> {
        return pool.everyServer(
          command,
          (connection, server, index) =>
            new Promise<T | undefined>((resolve) => {
              connection.send(build, handle(server.address, index, resolve), () => resolve(undefined));
            }),
        );
      }

      return {
        specificationVersion: TRANSPORT_SPECIFICATION_VERSION,
        name: 'memjs',
        capabilities: {
          maxItemSize: resolved.maxItemSize,
        },

        get(key) {
          return call(
            'get',
            key,
            (opaque) => keyRequest(Op.GET, key, opaque),
            (r) => (r.status === Status.OK ? toItem(r) : undefined),
            undefined,
          );
        },

        getMulti(keys) {
          const found = new Map<string, TransportItem>();
          // A key memcached could never hold is simply absent: one bad key must not sink the whole batch.
          const byServer = pool.readGroups(keys.filter(isMemcachedKey));
          const batches = [...byServer].map(([server, serverKeys]) => {
            const connection = server.acquire();
            if (connection === undefined) return undefined;
            const batch = () =>
              new Promise<void>((resolve) => {
                const onReply: ReplyHandler = (response) => {
                  if (response.opcode === Op.NOOP) {
                    resolve();
                    return true;
                  }
                  if (response.status === Status.OK) found.set(response.key(), toItem(response));
                  return false;
                };
                // On failure, the keys of that server are simply missing: error isolation per server.
                connection.send((opaque) => multiGetRequest(serverKeys, opaque), onReply, resolve);
              });
            return pool.traced('getMulti', server, serverKeys.length, batch);
          });
          return Promise.all(batches).then(() => found);
        },

        deleteMany(keys) {
          // Quiet deletes (the pool's, through `deleteKeys` above): one reply per server, the closing NOOP.
          return pool.deleteMany(keys);
        },

        set: (key, value, opts = {}) => store(Op.SET, key, value, opts),
        add: (key, value, opts = {}) => store(Op.ADD, key, value, opts),
        cas: (key, value, cas, opts = {}) => store(Op.SET, key, value, opts, cas),

        append(key, value) {
          return call(
            'append',
            key,
            (opaque) => keyRequest(Op.APPEND, key, opaque, value),
            storeStatus,
            'unavailable',
            'write',
          );
        },

        delete(key, options = {}) {
          return call(
            'delete',
            key,
            (opaque) => keyRequest(Op.DELETE, key, opaque),
            (r) => r.status === Status.OK,
            false,
            options.urgent === true ? 'urgent' : 'write',
          );
        },

        incr(key, delta) {
          return rejecting(() => {
            const amount = toDelta(delta);
            return call(
              'incr',
              key,
              (opaque) => incrementRequest(key, amount, opaque),
              (r) => (r.status === Status.OK ? r.value().readBigUInt64BE(0) : undefined),
              undefined,
              'write',
            );
          });
        },

        touch(key, exptime) {
          return rejecting(() => {
            assertExptime(exptime);
            return call(
              'touch',
              key,
              (opaque, lifetime) => touchRequest(key, lifetime(exptime), opaque),
              (r) => r.status === Status.OK,
              false,
            );
          });
        },

        // Every server and the gutter; one that is down is flushed when it is back, before it is used again.
        flush() {
          return pool.flushAll();
        },

        stats() {
          return askEveryServer<ServerStats>(
            'stats',
            (opaque) => simpleRequest(Op.STAT, opaque),
            (address, index, resolve) => {
              const stats: Record<string, string> = {};
              return (response) => {
                // Every statistic is one reply; an empty key ends the list.
                if (response.keyLength === 0) {
                  resolve({ server: address, weight: pool.weights[index] ?? 1, stats });
                  return true;
                }
                stats[response.key()] = response.value().toString();
                return false;
              };
            },
          );
        },

        // False after close too: calls then resolve without reaching any server.
        reachable(key) {
          return pool.reachable(key);
        },
        servable(key) {
          return pool.servable(key);
        },

        async close() {
          pool.close();
        },
      };
    },
    resolved,
    resolved.tls,
  );
}
