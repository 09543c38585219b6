/**
 * The classic text commands (`gets`, `set`, `add`, `cas`, `append`, `delete`, `incr`, `touch`): what memcached
 * proxies route — twemproxy (nutcracker) and mcrouter speak no meta commands. Replies are matched by order
 * alone (there is no opaque), and there is no quiet mode: proxies handle `noreply` unevenly.
 */
import type { StoreStatus, TransportItem } from '@lovely-memcached/core';
import { type Dialect, type Exchange, MORE, type StoreKind, withValue } from './exchange';
import type { Reply } from './reply-reader';

/** Keys per `gets` line: a long multi-get is split, so no line grows past what servers and proxies read. */
const KEYS_PER_GETS = 100;

/** A `VALUE <key> <flags> <bytes> <cas>` reply as an item. */
function itemOf(reply: Reply): TransportItem | undefined {
  if (reply.value === undefined) return undefined;
  const [, flags = '0', , cas] = reply.tokens;
  return { value: reply.value, flags: Number(flags), cas: cas === undefined ? 0n : BigInt(cas) };
}

/**
 * Reads a `gets` reply: `VALUE` lines for the hits, then `END`. A `VALUE` for a key not asked for means the
 * replies are out of step: the reply is refused (MORE is never returned for it, the connection is dropped).
 */
function getsExchange(keys: readonly string[], onHit: (key: string, item: TransportItem) => void) {
  const asked = new Set(keys);
  return (): Exchange<boolean> => ({
    bytes: `gets ${keys.join(' ')}\r\n`,
    reply(reply) {
      if (reply.code === 'END') return true;
      const key = reply.tokens[0];
      const item = itemOf(reply);
      if (reply.code !== 'VALUE' || key === undefined || !asked.has(key) || item === undefined) {
        // An error line (or a stray reply) ends the request as failed.
        return false;
      }
      onHit(key, item);
      return MORE;
    },
  });
}

function storeStatus(kind: StoreKind, reply: Reply): StoreStatus {
  switch (reply.code) {
    case 'STORED':
      return 'stored';
    case 'NOT_STORED':
      return kind === 'add' ? 'exists' : 'not-stored';
    case 'EXISTS':
      return 'exists';
    case 'NOT_FOUND':
      return 'not-found';
    case 'SERVER_ERROR':
      return reply.tokens.join(' ').includes('too large') ? 'too-large' : 'unavailable';
    default:
      return 'unavailable';
  }
}

export const classicDialect: Dialect = {
  name: 'classic',

  get(key) {
    let found: TransportItem | undefined;
    const build = getsExchange([key], (_key, item) => {
      found = item;
    });
    return () => {
      const request = build();
      return {
        bytes: request.bytes,
        reply: (reply) => {
          const outcome = request.reply(reply);
          return outcome === MORE ? MORE : outcome ? found : undefined;
        },
      };
    };
  },

  getMulti(keys, found) {
    const builders = [];
    for (let start = 0; start < keys.length; start += KEYS_PER_GETS) {
      const build = getsExchange(keys.slice(start, start + KEYS_PER_GETS), (key, item) =>
        found.set(key, item),
      );
      builders.push(() => {
        const request = build();
        return {
          bytes: request.bytes,
          reply: (reply: Reply) => (request.reply(reply) === MORE ? MORE : undefined),
        };
      });
    }
    return builders;
  },

  store: (kind, key, value, flags, exptime, cas) => (_opaque, lifetime) => ({
    bytes: withValue(
      kind === 'append'
        ? `append ${key} 0 0 ${value.length}\r\n`
        : kind === 'cas'
          ? `cas ${key} ${flags} ${lifetime(exptime)} ${value.length} ${cas ?? 0n}\r\n`
          : `${kind} ${key} ${flags} ${lifetime(exptime)} ${value.length}\r\n`,
      value,
    ),
    reply: (reply) => storeStatus(kind, reply),
  }),

  delete: (key) => () => ({
    bytes: `delete ${key}\r\n`,
    reply: (reply) => reply.code === 'DELETED',
  }),

  deleteMany(keys) {
    // Proxies route each `delete` on its own (twemproxy answers `noreply` unreliably): plain deletes, pipelined
    // in one write as one request that takes one reply per key, whatever it says (an error line included).
    return [
      (): Exchange<void> => {
        let left = keys.length;
        return {
          bytes: keys.map((key) => `delete ${key}\r\n`).join(''),
          reply: () => (--left === 0 ? undefined : MORE),
        };
      },
    ];
  },

  incr: (key, delta) => () => ({
    bytes: `incr ${key} ${delta}\r\n`,
    // The new value is the whole line; NOT_FOUND, or CLIENT_ERROR for a value that is not a number.
    reply: (reply) =>
      reply.tokens.length === 0 && /^\d{1,20}$/.test(reply.code) ? BigInt(reply.code) : undefined,
  }),

  touch: (key, exptime) => (_opaque, lifetime) => ({
    bytes: `touch ${key} ${lifetime(exptime)}\r\n`,
    reply: (reply) => reply.code === 'TOUCHED',
  }),

  // A miss every server and proxy routes and answers (`version` and `mn` are not routed by every proxy).
  ping: () => () => ({
    bytes: 'get lovely-memcached:ping\r\n',
    reply: (reply) => (reply.code === 'VALUE' ? MORE : reply.code),
  }),
};
