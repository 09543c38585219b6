/**
 * memcached's meta commands (`mg`, `ms`, `md`, `ma`, `mn`; memcached >= 1.6.10, where they are stable):
 * every request carries an opaque token the reply copies, gets and deletes in batches are quiet, counters are
 * 64-bit (`ma`), and `mg` reads value, client flags and CAS in one request.
 *
 * Nothing here needs a newer memcached than 1.6.10: `E` (client-set CAS), `md … x` (1.6.27) and conditional
 * fetch (1.6.40) are not used.
 */
import type { StoreStatus, TransportItem } from '@lovely-memcached/core';
import {
  type Dialect,
  type Exchange,
  type ExchangeBuilder,
  MORE,
  type StoreKind,
  withValue,
} from './exchange';
import type { Reply } from './reply-reader';

/**
 * An `mg … v f c` hit as an item; undefined for anything else (a miss, an error, an item another client marked
 * stale with `md … I`: invalidated, so never served).
 */
export function itemOf(reply: Reply): TransportItem | undefined {
  if (reply.code !== 'VA' || reply.value === undefined || reply.stale === true) return undefined;
  return { value: reply.value, flags: reply.flags ?? 0, cas: reply.cas ?? 0n };
}

const MODE: Record<StoreKind, string> = { set: '', add: ' ME', cas: '', append: ' MA' };

function storeStatus(kind: StoreKind, reply: Reply): StoreStatus {
  switch (reply.code) {
    case 'HD':
      return 'stored';
    // NS: `add` found the key present; `append` found it absent.
    case 'NS':
      return kind === 'add' ? 'exists' : 'not-stored';
    case 'EX':
      return 'exists';
    case 'NF':
      return 'not-found';
    case 'SERVER_ERROR':
      return reply.tokens.join(' ').includes('too large') ? 'too-large' : 'unavailable';
    default:
      return 'unavailable';
  }
}

const MG = Buffer.from('mg ');
const QUIET_GET = Buffer.from(' v f c q O');
const MD = Buffer.from('md ');
const QUIET_DELETE = Buffer.from(' q O');
const CRLF = Buffer.from('\r\n');
const MN = Buffer.from('mn\r\n');

/**
 * `<command> <key><flags><first + i>` for every key, then `mn`, written straight into one buffer: building one
 * long string and encoding it cost a sixth of a 100-key multi-get's CPU time in profiles.
 */
function quietBatchRequest(command: Buffer, flags: Buffer, keys: readonly string[], first: number): Buffer {
  const last = String(first + keys.length);
  let size = MN.length;
  for (const key of keys) size += command.length + key.length + flags.length + last.length + CRLF.length;
  const bytes = Buffer.allocUnsafe(size);
  let offset = 0;
  keys.forEach((key, i) => {
    offset += command.copy(bytes, offset);
    offset += bytes.write(key, offset, 'latin1');
    offset += flags.copy(bytes, offset);
    offset += bytes.write(String(first + i), offset, 'latin1');
    offset += CRLF.copy(bytes, offset);
  });
  offset += MN.copy(bytes, offset);
  return bytes.subarray(0, offset);
}

/**
 * One request per key, quiet, closed by `mn`: one pending entry for the batch, told each reply that comes
 * before `MN` (with the batch's first opaque, to tell which key a reply is for).
 */
function quietBatch(
  command: Buffer,
  flags: Buffer,
  keys: readonly string[],
  onReply: (reply: Reply, first: number) => void,
): ExchangeBuilder<void> {
  return (next): Exchange<void> => {
    const first = next(keys.length);
    return {
      bytes: quietBatchRequest(command, flags, keys, first),
      opaque: first,
      opaqueEnd: first + keys.length,
      batch: true,
      reply(reply) {
        if (reply.code === 'MN') return undefined;
        onReply(reply, first);
        return MORE;
      },
    };
  };
}

export const metaDialect: Dialect = {
  name: 'meta',

  get: (key) => (next) => {
    const opaque = next();
    return { bytes: `mg ${key} v f c O${opaque}\r\n`, opaque, reply: itemOf };
  },

  getMulti(keys, found) {
    // Quiet gets (misses stay silent), one opaque per key (a hit's opaque says which key it is). One pending
    // entry and one buffer for the whole batch, as the memjs transport's GETKQ + NOOP.
    return [
      quietBatch(MG, QUIET_GET, keys, (reply, first) => {
        const key = reply.opaque === undefined ? undefined : keys[reply.opaque - first];
        const item = itemOf(reply);
        if (key !== undefined && item !== undefined) found.set(key, item);
      }),
    ];
  },

  store: (kind, key, value, flags, exptime, cas) => (next, lifetime) => {
    const opaque = next();
    return {
      bytes: withValue(
        kind === 'append'
          ? `ms ${key} ${value.length} MA O${opaque}\r\n`
          : `ms ${key} ${value.length}${MODE[kind]} F${flags} T${lifetime(exptime)}${cas === undefined ? '' : ` C${cas}`} O${opaque}\r\n`,
        value,
      ),
      opaque,
      reply: (reply) => storeStatus(kind, reply),
    };
  },

  // Quiet: a delete done says nothing (NF still answers), so many deletes of one tick cost one `MN` reply.
  delete: (key) => (next) => {
    const opaque = next();
    return {
      bytes: `md ${key} q O${opaque}\r\n`,
      opaque,
      quiet: true,
      reply: (reply) => reply.code === 'HD',
      silent: true,
    };
  },

  // Quiet deletes (a done one says nothing; NF does): one reply to wait for per server.
  deleteMany: (keys) => [quietBatch(MD, QUIET_DELETE, keys, () => {})],

  incr: (key, delta) => (next) => {
    const opaque = next();
    return {
      bytes: `ma ${key} D${delta} v O${opaque}\r\n`,
      opaque,
      // NF: absent; CLIENT_ERROR: not a number (memcached's own rule, as in `incr`).
      reply: (reply) =>
        reply.code === 'VA' && reply.value !== undefined && /^\d{1,20}$/.test(reply.value.toString('latin1'))
          ? BigInt(reply.value.toString('latin1'))
          : undefined,
    };
  },

  touch: (key, exptime) => (next, lifetime) => {
    const opaque = next();
    return {
      bytes: `mg ${key} T${lifetime(exptime)} O${opaque}\r\n`,
      opaque,
      reply: (reply) => reply.code === 'HD',
    };
  },

  ping: () => () => ({
    bytes: 'version\r\n',
    reply: (reply) => (reply.code === 'VERSION' ? (reply.tokens[0] ?? '') : reply.code),
  }),
};
