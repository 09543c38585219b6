/**
 * The servers of one transport: their health, routing keys by libmemcached-compatible weighted ketama (a key
 * lands where every other ketama client puts it, and a down server costs only its own keys), the gutter pool
 * that takes a down server's keys (gutter.ts), what a down server missed (missed-writes.ts), and the
 * never-reachable warning.
 */
import {
  assertMemcachedKey,
  commandChannel,
  createHashRing,
  isMemcachedKey,
  parseServerAddress,
  traceCommand,
} from '@lovely-memcached/core';
import { rejecting } from './arguments';
import { capLifetime, checkGutterApart, KEEP, type Lifetime } from './gutter';
import type { ResolvedCommonOptions } from './options';
import { type ConnectionMaker, type HealthConnection, ServerHealth } from './server-health';
import type { ServerEndpoint } from './socket';

/**
 * What a request does to its key, which decides where it goes and what is remembered:
 * - `read` (reads, touches, leases): the key's server, or the gutter while it is down;
 * - `write` (stores, deletes, counters): the same, and remembered as a delete for the key's server while it is
 *   down, or when it went down with the write in flight;
 * - `urgent` (invalidations): a `write` that also tries the key's server while it is down, riding on its probe.
 */
export type Access = 'read' | 'write' | 'urgent';

export class ServerPool<C extends HealthConnection> {
  readonly servers: readonly ServerHealth<C>[];
  /** The configured weight of each server, in order (1 unless given as `host:port:weight`). */
  readonly weights: readonly number[];
  /** The gutter pool (none without the `gutter` option). */
  readonly gutterServers: readonly ServerHealth<C>[];
  private readonly serverFor: (key: string) => number;
  private readonly gutterFor: ((key: string) => ServerHealth<C>) | undefined;
  /** Expiry times of whatever goes to the gutter, capped to its `maxLifetime`. */
  private readonly gutterLifetime: Lifetime;
  /** How long a value written to the gutter may be read there: `maxLifetime`, plus the deadline it may land in. */
  private readonly gutterMs: number;
  private warnedNeverReached = false;
  private closed = false;

  constructor(
    addresses: readonly string[],
    private readonly options: ResolvedCommonOptions,
    makerFor: (endpoint: ServerEndpoint) => ConnectionMaker<C>,
  ) {
    const { gutter } = options;
    if (gutter !== undefined) checkGutterApart(gutter, addresses);
    const health = (address: string, onDown: () => void) => {
      const { host, port } = parseServerAddress(address);
      return new ServerHealth<C>(
        `${host}:${port}`,
        makerFor({ host: host.replace(/^\[|\]$/g, ''), port }),
        options,
        onDown,
      );
    };
    this.weights = addresses.map((address) => parseServerAddress(address).weight);
    this.servers = addresses.map((address, index) =>
      health(address, () => this.onServerDown(this.servers[index] as ServerHealth<C>)),
    );
    const ring = createHashRing(addresses);
    this.serverFor = this.servers.length === 1 ? () => 0 : (key) => ring.serverFor(key);
    this.gutterServers =
      gutter === undefined ? [] : gutter.servers.map((address) => health(address, () => {}));
    if (gutter === undefined) {
      this.gutterLifetime = KEEP;
      this.gutterMs = 0;
      return;
    }
    const gutterRing = createHashRing(gutter.servers);
    const [onlyGutter] = this.gutterServers;
    this.gutterFor =
      this.gutterServers.length === 1
        ? () => onlyGutter as ServerHealth<C>
        : (key) => this.gutterServers[gutterRing.serverFor(key)] as ServerHealth<C>;
    this.gutterLifetime = (exptime) => capLifetime(exptime, gutter.maxLifetime);
    this.gutterMs = gutter.maxLifetime * 1000 + options.timeout;
  }

  /** The server that owns `key`. */
  route(key: string): ServerHealth<C> {
    return this.servers[this.serverFor(key)] as ServerHealth<C>;
  }

  /**
   * False while the server that owns `key` is down or not yet back in use (the gutter may answer for it then,
   * but a miss there does not mean the key is absent), and after close.
   */
  reachable(key: string): boolean {
    return !this.closed && this.route(key).reachable;
  }

  /** Whether a request for `key` can be answered: by its server, or while that is down by its gutter server. */
  servable(key: string): boolean {
    if (this.closed) return false;
    return this.route(key).reachable || (this.gutterFor?.(key).reachable ?? false);
  }

  /** Keys grouped by the server that owns them, in first-seen order. */
  byServer(keys: Iterable<string>): Map<ServerHealth<C>, string[]> {
    return this.group(keys, (key) => this.route(key));
  }

  /** Keys grouped by the server a read goes to: their own, or the gutter while it is down. */
  readGroups(keys: Iterable<string>): Map<ServerHealth<C>, string[]> {
    return this.group(keys, (key) => this.readTarget(key));
  }

  /** Runs `request` on the command channel when someone listens (nothing is built otherwise). */
  traced<T>(command: string, server: ServerHealth<C>, keys: number, request: () => Promise<T>): Promise<T> {
    if (!commandChannel.hasSubscribers) return request();
    return traceCommand(command, server.address, keys, request);
  }

  /**
   * One request for `key`, traced: to its server, or while that is down to the gutter (`ask` gets the
   * lifetime to send expiry times through) and, for an `urgent` one, to its server as well, riding on its
   * probe; `fallback` when neither can be asked. A write whose server is down, or went down with it in flight, is
   * remembered for it (missed-writes.ts). A key memcached cannot parse (it would drop the connection) is
   * refused before it reaches the wire, and a bad argument `ask` finds while encoding fails this call alone:
   * both as its rejection.
   */
  forKey<T>(
    command: string,
    key: string,
    access: Access,
    fallback: T,
    ask: (connection: C, lifetime: Lifetime) => Promise<T>,
  ): Promise<T> {
    return rejecting(() => {
      assertMemcachedKey(key);
      const server = this.route(key);
      if (server.reachable) {
        const answer = this.askOn(command, server, key, access, fallback, ask, KEEP);
        // The gutter may still hold this key's value from the server's last outage: it must not outlive this.
        if (access === 'read' || server.gutterUntil <= performance.now()) return answer;
        return Promise.all([answer, this.deleteOn('delete', this.gutterOf(key), [key], false)]).then(
          ([outcome]) => outcome,
        );
      }
      if (access !== 'read') server.missed.remember(key);
      const gutter = this.gutterFor?.(key);
      if (gutter !== undefined && access !== 'read') server.gutterUntil = performance.now() + this.gutterMs;
      const viaGutter =
        gutter === undefined
          ? undefined
          : this.askOn(command, gutter, key, access, fallback, ask, this.gutterLifetime);
      if (access !== 'urgent') return viaGutter ?? Promise.resolve(fallback);
      const direct = this.askOn(command, server, key, access, fallback, ask, KEEP);
      return viaGutter === undefined ? direct : Promise.all([viaGutter, direct]).then(([outcome]) => outcome);
    });
  }

  /**
   * Deletes many keys, urgently (an invalidation's): on their servers (riding on the probe of one that is down),
   * on the gutter for a server that is down or was lately, and remembered wherever they could not be confirmed.
   * Resolves once every server answered or failed.
   */
  deleteMany(keys: readonly string[]): Promise<void> {
    const batches: Promise<void>[] = [];
    const onGutter: string[] = [];
    const now = performance.now();
    for (const [server, serverKeys] of this.byServer(keys.filter(isMemcachedKey))) {
      if (!server.reachable) for (const key of serverKeys) server.missed.remember(key);
      batches.push(this.deleteOn('deleteMany', server, serverKeys, true));
      if (this.gutterFor !== undefined && (!server.reachable || server.gutterUntil > now)) {
        onGutter.push(...serverKeys);
      }
    }
    for (const [gutter, gutterKeys] of this.group(onGutter, (key) => this.gutterOf(key))) {
      batches.push(this.deleteOn('deleteMany', gutter, gutterKeys, false));
    }
    return Promise.all(batches).then(() => undefined);
  }

  /**
   * Flushes every server, the gutter's included; one that cannot be reached (or fails) is flushed when it is
   * back, before it is used again.
   */
  async flushAll(): Promise<void> {
    await Promise.all(
      [...this.servers, ...this.gutterServers].map((server) =>
        this.traced('flush', server, 0, async () => {
          const connection = server.acquire();
          const done = connection !== undefined && (await server.flush(connection));
          if (!done || !server.reachable) server.missed.rememberFlush();
        }),
      ),
    );
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
    for (const server of this.gutterServers) server.close();
  }

  private readTarget(key: string): ServerHealth<C> {
    const server = this.route(key);
    return server.reachable || this.gutterFor === undefined ? server : this.gutterFor(key);
  }

  private gutterOf(key: string): ServerHealth<C> {
    return (this.gutterFor as (key: string) => ServerHealth<C>)(key);
  }

  private group(
    keys: Iterable<string>,
    target: (key: string) => ServerHealth<C>,
  ): Map<ServerHealth<C>, string[]> {
    const grouped = new Map<ServerHealth<C>, string[]>();
    for (const key of keys) {
      const server = target(key);
      const list = grouped.get(server);
      if (list === undefined) grouped.set(server, [key]);
      else list.push(key);
    }
    return grouped;
  }

  /** One request to `server`; a write it cannot confirm there (down, or down since) is remembered for it. */
  private askOn<T>(
    command: string,
    server: ServerHealth<C>,
    key: string,
    access: Access,
    fallback: T,
    ask: (connection: C, lifetime: Lifetime) => Promise<T>,
    lifetime: Lifetime,
  ): Promise<T> {
    return this.traced(command, server, 1, () => {
      const connection = server.acquire(access === 'urgent');
      if (connection === undefined) {
        if (access !== 'read') server.missed.remember(key);
        return Promise.resolve(fallback);
      }
      const answer = ask(connection, lifetime);
      if (access === 'read') return answer;
      return answer.then((outcome) => {
        if (!server.reachable) server.missed.remember(key);
        return outcome;
      });
    });
  }

  /** Quiet deletes of `keys` on one server; those it cannot confirm (down, or down since) are remembered. */
  private deleteOn(command: string, server: ServerHealth<C>, keys: string[], urgent: boolean): Promise<void> {
    return this.traced(command, server, keys.length, async () => {
      const connection = server.acquire(urgent);
      const done = connection !== undefined && (await server.deleteKeys(connection, keys));
      if (!done || !server.reachable) for (const key of keys) server.missed.remember(key);
    });
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

  private onServerDown(server: ServerHealth<C>): void {
    this.warnIfNoneReachable(this.options.transport);
    if (this.gutterServers.length > 0) {
      this.options.onEvent({
        type: 'gutter',
        server: server.address,
        gutter: this.gutterServers.map((gutter) => gutter.address),
      });
    }
  }
}
