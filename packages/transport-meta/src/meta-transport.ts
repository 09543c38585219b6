/**
 * `metaTransport()`: real memcached over its text protocol, with its own protocol code on `node:net` (no
 * client library underneath). Meta commands by default; the classic commands alone with `proxy: true`.
 *
 * Server health, routing (libmemcached-compatible weighted ketama), deadlines and option checks are the ones
 * every network transport shares (`@lovely-memcached/transport-kit`); this file maps the Transport interface
 * onto a dialect's requests.
 */
import {
  assertExptime,
  assertFlags,
  assertMemcachedKey,
  CacheError,
  isMemcachedKey,
  MEMCACHED_ITEM_OVERHEAD,
  type ServerStats,
  type StoreOptions,
  type StoreStatus,
  TRANSPORT_SPECIFICATION_VERSION,
  type Transport,
  type TransportFactory,
  type TransportItem,
  toDelta,
  warnOnce,
} from '@lovely-memcached/core';
import {
  type Access,
  assertCasUnique,
  type ConnectionMaker,
  rejecting,
  type ServerEndpoint,
  ServerPool,
  withAutoDiscovery,
} from '@lovely-memcached/transport-kit';
import { classicDialect } from './classic-dialect';
import { Connection } from './connection';
import { type Dialect, type ExchangeBuilder, exchange, exchangeWith, MORE, type StoreKind } from './exchange';
import { metaDialect } from './meta-dialect';
import { type MetaTransportOptions, type ResolvedMetaOptions, resolveMetaOptions } from './options';
import { serverLeases } from './server-leases';

/** memcached's first version with stable meta commands (and `HD` instead of `OK`). */
const META_SINCE = [1, 6, 10];

function olderThan(version: string, since: readonly number[]): boolean {
  const parts = version.split('.').map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < since.length; i++) {
    const have = parts[i] ?? 0;
    const want = since[i] as number;
    if (Number.isNaN(have)) return false;
    if (have !== want) return have < want;
  }
  return false;
}

/**
 * How server health opens connections, probes with the dialect's cheapest request, and applies what a server
 * missed (`flush_all` only without a proxy, which could not forward it).
 */
function connectionsFor(
  options: ResolvedMetaOptions,
  dialect: Dialect,
  endpoint: ServerEndpoint,
): ConnectionMaker<Connection> {
  const hello =
    options.username === undefined
      ? undefined
      : (() => {
          const credentials = Buffer.from(`${options.username} ${options.password ?? ''}`);
          return Buffer.concat([
            // Expired at once (-1): memcached with -Y takes it as the credentials and stores nothing; one without -Y
            // would otherwise keep them as a readable item.
            Buffer.from(`set lovely-memcached:auth 0 -1 ${credentials.length}\r\n`),
            credentials,
            Buffer.from('\r\n'),
          ]);
        })();
  const settings = {
    ...endpoint,
    timeout: options.timeout,
    maxItemSize: options.maxItemSize,
    tls: options.tls,
    hello,
    classic: dialect.name === 'classic',
  };
  const address = `${endpoint.host}:${endpoint.port}`;
  return {
    open: (onBreak) => new Connection(settings, onBreak),
    ping: (connection, onAnswer) =>
      exchangeWith(
        connection,
        dialect.ping(),
        (answer) => {
          if (answer === undefined) return;
          if (dialect.name === 'meta' && /^\d+\.\d+/.test(answer) && olderThan(answer, META_SINCE)) {
            warnOnce(
              `[lovely-memcached] metaTransport: ${address} is memcached ${answer}; meta commands need 1.6.10 or later (use metaTransport({ proxy: true }) for the classic commands)`,
            );
          }
          onAnswer();
        },
        undefined,
      ),
    deleteKeys: (connection, keys) =>
      new Promise<boolean>((resolve) => {
        const builders = dialect.deleteMany(keys);
        let left = builders.length;
        let failed = false;
        const settle = (ok: boolean) => {
          if (!ok) failed = true;
          if (--left === 0) resolve(!failed);
        };
        for (const build of builders) exchangeWith(connection, answered(build), settle, false);
      }),
    ...(dialect.name === 'meta' && {
      flush: (connection: Connection) =>
        exchange(
          connection,
          () => ({ bytes: 'flush_all\r\n', reply: (reply) => reply.code === 'OK' }),
          false,
        ),
    }),
    authFailedEvent(server) {
      const username = options.username ?? '';
      // Name the user and the server, never the password.
      const error = new CacheError(
        'ERR_AUTH',
        `authentication failed for user ${JSON.stringify(username)} at ${server}: check \`username\` and \`password\` (memcached -Y authfile)`,
        { context: { server, username } },
      );
      return { type: 'auth-failed', server, username, error };
    },
  };
}

export function metaTransport(options: MetaTransportOptions = {}): TransportFactory {
  const resolved = resolveMetaOptions(options);
  const dialect = resolved.proxy ? classicDialect : metaDialect;

  return withAutoDiscovery(
    (servers: readonly string[]): Transport => {
      const pool = new ServerPool(servers, resolved, (endpoint) =>
        connectionsFor(resolved, dialect, endpoint),
      );

      /**
       * One request for `key`'s server (or the gutter while it is down, expiry times capped through the
       * lifetime the builder gets): `fallback` when it is down or the request fails.
       */
      function call<T>(
        command: string,
        key: string,
        build: ExchangeBuilder<T>,
        fallback: T,
        access: Access = 'read',
      ): Promise<T> {
        return pool.forKey(command, key, access, fallback, (connection, lifetime) =>
          exchange(connection, build, fallback, lifetime),
        );
      }

      function store(
        kind: StoreKind,
        key: string,
        value: Uint8Array,
        { flags = 0, exptime = 0 }: StoreOptions,
        cas?: bigint,
      ): Promise<StoreStatus> {
        return rejecting(() => {
          assertMemcachedKey(key);
          assertFlags(flags);
          assertExptime(exptime);
          if (kind === 'cas') assertCasUnique(cas);
          // memcached drops the item it has when a store is too large (`ms` in every mode, unlike the binary
          // protocol's `add`): an `add` or `cas` that cannot fit is refused here, so the item stays as it was.
          if ((kind === 'add' || kind === 'cas') && tooLarge(key, value, flags)) {
            return Promise.resolve('too-large');
          }
          return call(
            kind,
            key,
            dialect.store(kind, key, value, flags, exptime, cas),
            'unavailable',
            'write',
          );
        });
      }

      /** memcached's item size rule: key, value and header; a non-zero flags word takes 4 bytes more. */
      const tooLarge = (key: string, value: Uint8Array, flags: number) =>
        key.length + value.length + MEMCACHED_ITEM_OVERHEAD + (flags === 0 ? 0 : 4) > resolved.maxItemSize;

      /** What a proxy cannot route: answered here, said once per transport, never sent. */
      const unsupportedSaid = new Set<string>();
      function unsupported(command: 'stats' | 'flush'): void {
        const reason = `${command === 'flush' ? 'flush_all' : 'stats'} cannot go through a proxy (metaTransport({ proxy: true })): ${command === 'flush' ? 'nothing was flushed; flush the servers behind the proxy directly' : 'no statistics; ask the servers behind the proxy directly'}`;
        resolved.onMetaEvent({ type: 'unsupported', command, reason });
        if (!unsupportedSaid.has(command)) {
          unsupportedSaid.add(command);
          warnOnce(`[lovely-memcached] metaTransport: ${reason}`);
        }
      }

      const transport: Transport = {
        specificationVersion: TRANSPORT_SPECIFICATION_VERSION,
        name: resolved.proxy ? 'meta (proxy)' : 'meta',
        capabilities: {
          maxItemSize: resolved.maxItemSize,
        },

        get(key) {
          return call('get', key, dialect.get(key), undefined);
        },

        getMulti(keys) {
          const found = new Map<string, TransportItem>();
          // A key memcached could never hold is simply absent: one bad key must not sink the whole batch.
          const byServer = pool.readGroups(keys.filter(isMemcachedKey));
          const batches = [...byServer].map(([server, serverKeys]) =>
            pool.traced('getMulti', server, serverKeys.length, () => {
              const connection = server.acquire();
              if (connection === undefined) return Promise.resolve();
              // Settled when every request of the batch is (hit, silent miss, or failed: those keys are absent).
              return settleAll(connection, dialect.getMulti(serverKeys, found));
            }),
          );
          return Promise.all(batches).then(() => found);
        },

        deleteMany(keys) {
          // Urgent, as a single delete (the pool's, through `deleteKeys` above): deletes are how invalidation
          // reaches a server that is coming back, and what it missed is remembered.
          return pool.deleteMany(keys);
        },

        set: (key, value, opts = {}) => store('set', key, value, opts),
        add: (key, value, opts = {}) => store('add', key, value, opts),
        cas: (key, value, cas, opts = {}) => store('cas', key, value, opts, cas),
        append: (key, value) => store('append', key, value, {}),

        delete(key, opts = {}) {
          return call('delete', key, dialect.delete(key), false, opts.urgent === true ? 'urgent' : 'write');
        },

        incr(key, delta) {
          return rejecting(() => call('incr', key, dialect.incr(key, toDelta(delta)), undefined, 'write'));
        },

        touch(key, exptime) {
          return rejecting(() => {
            assertExptime(exptime);
            return call('touch', key, dialect.touch(key, exptime), false);
          });
        },

        async flush() {
          if (resolved.proxy) {
            unsupported('flush');
            return;
          }
          // Every server and the gutter; one that is down is flushed when it is back, before it is used again.
          await pool.flushAll();
        },

        stats() {
          if (resolved.proxy) {
            unsupported('stats');
            return Promise.resolve([]);
          }
          return pool.everyServer('stats', (connection, server, index) => {
            const stats: Record<string, string> = {};
            return exchange<ServerStats | undefined>(
              connection,
              () => ({
                bytes: 'stats\r\n',
                reply(reply) {
                  if (reply.code === 'STAT' && reply.tokens[0] !== undefined) {
                    stats[reply.tokens[0]] = reply.tokens.slice(1).join(' ');
                    return MORE;
                  }
                  return reply.code === 'END'
                    ? { server: server.address, weight: pool.weights[index] ?? 1, stats }
                    : undefined;
                },
              }),
              undefined,
            );
          });
        },

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
      // Server-side leases need the meta commands: behind a proxy, the core takes them with `add`.
      if (resolved.proxy || !resolved.serverLeases) return transport;
      return { ...transport, leases: serverLeases(call) };
    },
    resolved,
    resolved.tls,
  );
}

/** `build`'s request, its outcome `true` once the server settled it: a failure is the fallback, `false`. */
function answered(build: ExchangeBuilder<void>): ExchangeBuilder<boolean> {
  return (next, lifetime) => {
    const request = build(next, lifetime);
    return { ...request, reply: (reply) => (request.reply(reply) === MORE ? MORE : true), silent: true };
  };
}

/** Sends every request (one write: the connection corks a tick's writes); settles once each one has. */
function settleAll(connection: Connection, builders: Array<ExchangeBuilder<void>>): Promise<void> {
  return new Promise<void>((resolve) => {
    let left = builders.length;
    const settle = () => {
      if (--left === 0) resolve();
    };
    for (const build of builders) exchangeWith(connection, build, settle, undefined);
  });
}
