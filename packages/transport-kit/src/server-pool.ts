/**
 * The servers of one transport: their health, routing keys by libmemcached-compatible weighted ketama (a key
 * lands where every other ketama client puts it, and a down server costs only its own keys), and the
 * never-reachable warning.
 */
import {
  assertMemcachedKey,
  commandChannel,
  createHashRing,
  parseServerAddress,
  traceCommand,
} from '@lovely-memcached/core';
import { rejecting } from './arguments';
import type { ResolvedCommonOptions } from './options';
import { type ConnectionMaker, type HealthConnection, ServerHealth } from './server-health';
import type { ServerEndpoint } from './socket';

export class ServerPool<C extends HealthConnection> {
  readonly servers: readonly ServerHealth<C>[];
  /** The configured weight of each server, in order (1 unless given as `host:port:weight`). */
  readonly weights: readonly number[];
  private readonly serverFor: (key: string) => number;
  private warnedNeverReached = false;
  private closed = false;

  constructor(
    addresses: readonly string[],
    options: ResolvedCommonOptions,
    makerFor: (endpoint: ServerEndpoint) => ConnectionMaker<C>,
  ) {
    const parsed = addresses.map(parseServerAddress);
    this.weights = parsed.map((server) => server.weight);
    this.servers = parsed.map(
      ({ host, port }) =>
        new ServerHealth<C>(
          `${host}:${port}`,
          makerFor({ host: host.replace(/^\[|\]$/g, ''), port }),
          options,
          () => this.warnIfNoneReachable(options.transport),
        ),
    );
    const ring = createHashRing(addresses);
    this.serverFor = this.servers.length === 1 ? () => 0 : (key) => ring.serverFor(key);
  }

  /** The server that owns `key`. */
  route(key: string): ServerHealth<C> {
    return this.servers[this.serverFor(key)] as ServerHealth<C>;
  }

  /** False after close too: calls then resolve without reaching any server. */
  reachable(key: string): boolean {
    return !this.closed && this.route(key).reachable;
  }

  /** Keys grouped by the server that owns them, in first-seen order. */
  byServer(keys: Iterable<string>): Map<ServerHealth<C>, string[]> {
    const grouped = new Map<ServerHealth<C>, string[]>();
    for (const key of keys) {
      const server = this.route(key);
      const list = grouped.get(server);
      if (list === undefined) grouped.set(server, [key]);
      else list.push(key);
    }
    return grouped;
  }

  /** Runs `request` on the command channel when someone listens (nothing is built otherwise). */
  traced<T>(command: string, server: ServerHealth<C>, keys: number, request: () => Promise<T>): Promise<T> {
    if (!commandChannel.hasSubscribers) return request();
    return traceCommand(command, server.address, keys, request);
  }

  /**
   * One request for `key`'s server, traced; `fallback` when that server is down. A key memcached cannot parse
   * (it would drop the connection) is refused before it reaches the wire, and a bad argument `ask` finds while
   * encoding fails this call alone: both as its rejection.
   */
  forKey<T>(
    command: string,
    key: string,
    urgent: boolean,
    fallback: T,
    ask: (connection: C) => Promise<T>,
  ): Promise<T> {
    return rejecting(() => {
      assertMemcachedKey(key);
      const server = this.route(key);
      return this.traced(command, server, 1, () => {
        const connection = server.acquire(urgent);
        return connection === undefined ? Promise.resolve(fallback) : ask(connection);
      });
    });
  }

  /**
   * One request to every reachable server, in order; servers that are down or fail (`ask` resolves
   * undefined) are left out of the answer.
   */
  async everyServer<T>(
    command: string,
    ask: (connection: C, server: ServerHealth<C>, index: number) => Promise<T | undefined>,
  ): Promise<T[]> {
    const answers = await Promise.all(
      this.servers.map((server, index) =>
        this.traced(command, server, 0, () => {
          const connection = server.acquire();
          return connection === undefined ? Promise.resolve(undefined) : ask(connection, server, index);
        }),
      ),
    );
    return answers.filter((answer): answer is Awaited<T> => answer !== undefined);
  }

  close(): void {
    this.closed = true;
    for (const server of this.servers) server.close();
  }

  /** Said once: every server unreachable since the transport was made (not a key's miss: a setup problem). */
  private warnIfNoneReachable(transport: string): void {
    if (this.warnedNeverReached || !this.servers.every((server) => server.neverReached)) return;
    this.warnedNeverReached = true;
    const why = this.servers
      .map((server) => `${server.address}: ${server.lastFailure ?? 'unknown'}`)
      .join(', ');
    process.emitWarning(
      `[lovely-memcached] ${transport}Transport: every memcached server has been unreachable since start (${why}); reads miss and writes store nothing until one answers`,
      { type: 'LovelyMemcachedWarning', code: 'LOVELY_MEMCACHED_UNREACHABLE' },
    );
  }
}
