/**
 * One request and how to read its reply(ies): what a dialect (meta or classic commands) hands the transport.
 */
import type { StoreStatus, TransportItem } from '@lovely-memcached/core';
import { KEEP, type Lifetime } from '@lovely-memcached/transport-kit';
import type { Connection } from './connection';
import type { Reply } from './reply-reader';

/** Returned by `Exchange.reply` while more replies belong to the same request (classic `gets`, `stats`). */
export const MORE: unique symbol = Symbol('more replies due');

export interface Exchange<T> {
  bytes: Buffer | string;
  /** The number of the `O` flag the request carries (meta commands); classic ones are matched by order alone. */
  opaque?: number;
  /** A batch: its requests carry the opaques from `opaque` up to (not including) this. */
  opaqueEnd?: number;
  /** Quiet (`q`): no reply when the outcome is `silent`. */
  quiet?: boolean;
  /** Quiet requests under one opaque, ended by their own `mn`: replies until `MN` (see Pending.batch). */
  batch?: boolean;
  /** The outcome a reply gives, or MORE while further replies belong to this request. */
  reply(reply: Reply): T | typeof MORE;
  /** A quiet request's outcome when no reply came. */
  silent?: T;
}

/**
 * Builds an exchange for a connection; `opaque(count)` reserves that connection's next opaque numbers (one by
 * default) and returns the first; expiry times go through `lifetime` (capped when the request goes to the
 * gutter).
 */
export type ExchangeBuilder<T> = (opaque: (count?: number) => number, lifetime: Lifetime) => Exchange<T>;

export type StoreKind = 'set' | 'add' | 'cas' | 'append';

/** The commands one way of speaking to memcached offers (meta commands, or the classic ones proxies route). */
export interface Dialect {
  readonly name: 'meta' | 'classic';
  get(key: string): ExchangeBuilder<TransportItem | undefined>;
  /** One or more requests that fetch `keys` (of one server) into `found`. */
  getMulti(keys: readonly string[], found: Map<string, TransportItem>): Array<ExchangeBuilder<void>>;
  store(
    kind: StoreKind,
    key: string,
    value: Uint8Array,
    flags: number,
    exptime: number,
    cas?: bigint,
  ): ExchangeBuilder<StoreStatus>;
  delete(key: string): ExchangeBuilder<boolean>;
  /** One or more requests that delete `keys` (of one server), settled when every delete is. */
  deleteMany(keys: readonly string[]): Array<ExchangeBuilder<void>>;
  incr(key: string, delta: bigint): ExchangeBuilder<bigint | undefined>;
  touch(key: string, exptime: number): ExchangeBuilder<boolean>;
  /** The cheapest request a server (or proxy) answers: what probes send. */
  ping(): ExchangeBuilder<string>;
}

/** Sends an exchange on a connection; `fallback` when the connection fails first. */
export function exchange<T>(
  connection: Connection,
  build: ExchangeBuilder<T>,
  fallback: T,
  lifetime: Lifetime = KEEP,
): Promise<T> {
  return new Promise<T>((resolve) => {
    exchangeWith(connection, build, resolve, fallback, lifetime);
  });
}

/** `exchange` with a callback instead of a promise (multi-gets settle many of them at once). */
export function exchangeWith<T>(
  connection: Connection,
  build: ExchangeBuilder<T>,
  settle: (outcome: T) => void,
  fallback: T,
  lifetime: Lifetime = KEEP,
): void {
  const request = build((count) => connection.opaque(count), lifetime);
  connection.send(request.bytes, {
    opaque: request.opaque,
    opaqueEnd: request.opaqueEnd,
    quiet: request.quiet === true,
    batch: request.batch === true,
    onReply(reply) {
      const outcome = request.reply(reply);
      if (outcome === MORE) return false;
      settle(outcome);
      return true;
    },
    onSilent: () => settle(request.silent as T),
    onFail: () => settle(fallback),
  });
}

/** A storage request: its command line, then the value and CRLF, in one buffer (one write). */
export function withValue(line: string, value: Uint8Array): Buffer {
  const bytes = Buffer.allocUnsafe(line.length + value.length + 2);
  bytes.write(line, 0, 'latin1');
  bytes.set(value, line.length);
  bytes[bytes.length - 2] = 0x0d;
  bytes[bytes.length - 1] = 0x0a;
  return bytes;
}
