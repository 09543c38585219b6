/**
 * The gutter pool (Facebook's memcache paper, NSDI'13 §3.3; mcrouter's FailoverRoute; memcached proxy's "gutter
 * failover"): a few spare servers that take the keys of a server that is down, so losing one is not a miss
 * storm on the database. Everything stored there lives at most `maxLifetime` seconds: the gutter is written by
 * clients that cannot see the real owner of a key, and its copies must not outlive the outage by much.
 */
import {
  CacheError,
  checkOptionNames,
  type Duration,
  describeValue,
  durationIn,
  MAX_RELATIVE_EXPTIME,
  parseServerAddress,
} from '@lovely-memcached/core';

export interface GutterOptions {
  /** The gutter servers (`host:port[:weight]`), none of them one of the transport's own servers. */
  servers: readonly string[];
  /**
   * How long anything stored in the gutter lives: seconds, or a string with a unit (`'10s'`, `'1m'`); every
   * write's expiry there is capped to it (0, "never", included), and so are the leases taken there. A whole
   * number of seconds from 1 to 2592000 (30 days).
   * @default 10
   */
  maxLifetime?: Duration;
}

const GUTTER_OPTION_NAMES = {
  servers: true,
  maxLifetime: true,
} as const satisfies Record<keyof GutterOptions, true>;

export interface ResolvedGutter {
  servers: readonly string[];
  maxLifetime: number;
}

/** How a request turns a memcached expiry time into the one it sends: unchanged, or capped for the gutter. */
export type Lifetime = (exptime: number) => number;

/** A server's own keys keep their expiry times. */
export const KEEP: Lifetime = (exptime) => exptime;

/** What a transport reports when the keys of a down server go to the gutter. */
export interface GutterEvent {
  type: 'gutter';
  /** The server that went down. */
  server: string;
  /** The gutter servers that take its keys (by ketama) until it is back. */
  gutter: string[];
}

function invalid(message: string, value: unknown): CacheError {
  return new CacheError('ERR_INVALID_OPTION', message, { context: { option: 'gutter', value } });
}

/** The `gutter` option, checked: a non-empty list of addresses and a whole `maxLifetime` of at least 1. */
export function checkGutter(value: unknown): ResolvedGutter | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('`gutter` must be { servers: ["host:port", …], maxLifetime?: seconds }', value);
  }
  checkOptionNames('the `gutter` options', value, GUTTER_OPTION_NAMES);
  const { servers, maxLifetime: given = 10 } = value as GutterOptions;
  const maxLifetime = durationIn('s', given);
  if (!Array.isArray(servers) || servers.length === 0) {
    throw invalid(
      '`gutter.servers` must list at least one server ("host:port"): without one there is no gutter (leave `gutter` out)',
      servers,
    );
  }
  for (const server of servers) {
    if (typeof server !== 'string') throw invalid('`gutter.servers` must be "host:port" strings', server);
    parseServerAddress(server);
  }
  if (!Number.isInteger(maxLifetime) || maxLifetime < 1 || maxLifetime > MAX_RELATIVE_EXPTIME) {
    throw invalid(
      `\`gutter.maxLifetime\` must be a whole number of seconds from 1 to ${MAX_RELATIVE_EXPTIME}, or a string with a unit ('10s', '1m'), got ${describeValue(given)}`,
      given,
    );
  }
  return { servers: [...servers], maxLifetime };
}

const hostPort = (address: string) => {
  const { host, port } = parseServerAddress(address);
  return `${host}:${port}`;
};

/**
 * Refuses a gutter server that is also one of the transport's own: its keys would go to a server that holds
 * other keys for good, uncapped, and when it went down, to itself.
 */
export function checkGutterApart(gutter: ResolvedGutter, servers: readonly string[]): void {
  const own = new Set(servers.map(hostPort));
  const shared = gutter.servers.find((server) => own.has(hostPort(server)));
  if (shared !== undefined) {
    throw invalid(
      `gutter server ${shared} is also one of the transport's servers: a gutter must be servers of its own`,
      shared,
    );
  }
}

/**
 * `exptime` capped to `maxLifetime` seconds from now: 0 ("never") and anything longer become `maxLifetime`, an
 * absolute Unix time (above 30 days) counts from now, and an expiry in the past stays one.
 */
export function capLifetime(exptime: number, maxLifetime: number, nowSeconds = Date.now() / 1000): number {
  if (exptime < 0) return exptime;
  if (exptime === 0) return maxLifetime;
  if (exptime <= MAX_RELATIVE_EXPTIME) return Math.min(exptime, maxLifetime);
  const left = Math.floor(exptime - nowSeconds);
  return left <= 0 ? -1 : Math.min(left, maxLifetime);
}
