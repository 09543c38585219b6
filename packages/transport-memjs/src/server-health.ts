/**
 * One server as the transport sees it: its current connection, and whether it is up.
 *
 * A server whose connection breaks (refused, timed out, closed mid-request, garbled) is marked down: calls for
 * its keys then resolve at once instead of each waiting out a deadline. In the background a probe connects and
 * sends a NOOP every `probeInterval`; the first one answered brings the server back, and its connection is
 * the one the next calls use.
 */
import { CacheError } from '@lovely-memcached/core';
import { type BreakReason, Connection, type ConnectionSettings } from './connection';
import type { ResolvedMemjsOptions } from './options';
import { Op, simpleRequest } from './protocol';

export class ServerHealth {
  private connection: Connection | undefined;
  /** The probe in flight, if any: urgent requests ride on it instead of opening probes of their own. */
  private probing: Connection | undefined;
  private down = false;
  /** Connected at least once since the transport was made. */
  private everConnected = false;
  /** Why the server went down last, e.g. `connect (ECONNREFUSED)`, for the never-reachable warning. */
  lastFailure: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly settings: ConnectionSettings;

  constructor(
    readonly address: string,
    host: string,
    port: number,
    private readonly options: ResolvedMemjsOptions,
    /** Told whenever this server goes down, so the transport can notice that none was ever reachable. */
    private readonly onDown: () => void = () => {},
  ) {
    this.settings = {
      host,
      port,
      timeout: options.timeout,
      username: options.username,
      password: options.password,
    };
  }

  /** Down, and never reached since the transport was made. */
  get neverReached(): boolean {
    return this.down && !this.everConnected;
  }

  /** False while the server is marked down (its keys read as misses without being asked). */
  get reachable(): boolean {
    return !this.down;
  }

  /**
   * A live connection, or undefined while the server is down (or the transport closed). `urgent` requests
   * (invalidations) probe a down server at once and ride on the probe's connection, behind its NOOP.
   */
  acquire(urgent = false): Connection | undefined {
    if (this.closed) return undefined;
    if (this.down) return urgent ? this.probe() : undefined;
    if (this.connection === undefined || this.connection.broken) {
      this.connection = new Connection(this.settings, (reason, broken) => this.onBreak(reason, broken));
    }
    return this.connection;
  }

  close(): void {
    this.closed = true;
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.connection?.close();
    this.connection = undefined;
    this.probing?.close();
    this.probing = undefined;
  }

  private onBreak(reason: BreakReason, broken: Connection): void {
    if (broken.connected) this.everConnected = true;
    if (broken === this.connection) this.connection = undefined;
    // An idle socket closed by the server (a restart, an idle timeout) is simply replaced on the next call;
    // everything else means the server cannot serve us now.
    if (reason === 'closed-by-client' || reason === 'idle-closed' || this.closed) return;
    if (reason === 'auth') {
      const username = this.settings.username ?? '';
      // Name the user and the server, never the password.
      const error = new CacheError(
        'ERR_AUTH',
        `SASL authentication failed for user ${JSON.stringify(username)} at ${this.address}: check \`username\` and \`password\` (memcached -S)`,
        { context: { server: this.address, username } },
      );
      this.options.onEvent({ type: 'auth-failed', server: this.address, username, error });
    }
    this.markDown(reason, broken.errorCode);
  }

  private markDown(reason: BreakReason, code: string | undefined): void {
    if (this.down) return;
    this.down = true;
    this.lastFailure = code === undefined ? reason : `${reason} (${code})`;
    this.options.onEvent(
      code === undefined
        ? { type: 'server-down', server: this.address, reason }
        : { type: 'server-down', server: this.address, reason, code },
    );
    this.onDown();
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.closed || this.probeTimer !== undefined) return;
    this.probeTimer = setTimeout(() => this.probe(), this.options.probeInterval);
    this.probeTimer.unref();
  }

  /** At most one probe per server at a time: a second caller gets the probe already in flight. */
  private probe(): Connection | undefined {
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    if (this.closed) return undefined;
    if (this.probing !== undefined) return this.probing;
    let answered = false;
    const probe = new Connection(this.settings, (reason, broken) => {
      if (broken.connected) this.everConnected = true;
      if (this.probing === broken) this.probing = undefined;
      if (answered) this.onBreak(reason, broken);
      else if (!this.closed) this.scheduleProbe();
    });
    this.probing = probe;
    probe.send(
      (opaque) => simpleRequest(Op.NOOP, opaque),
      () => {
        answered = true;
        this.probing = undefined;
        if (this.closed) {
          probe.close();
          return true;
        }
        this.connection?.close();
        this.connection = probe;
        this.down = false;
        this.everConnected = true;
        this.options.onEvent({ type: 'server-up', server: this.address });
        return true;
      },
      () => {},
    );
    return probe;
  }
}
