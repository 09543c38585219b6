/**
 * One server as a transport sees it: its connections, and whether it is up. The protocol is the transport's;
 * this part is the same for every transport.
 *
 * A server whose connection breaks (refused, timed out, closed mid-request, garbled) is marked down: calls for
 * its keys then resolve at once instead of each waiting out a deadline, and its other connections are closed
 * (their requests settle now rather than at their deadlines). In the background ONE probe at a time connects
 * and sends the protocol's cheapest request every `probeInterval`; the first one answered brings the server
 * back, and its connection is the one the next calls use. Before that, what the server missed while it was
 * away (missed-writes.ts) is applied on that connection: until it is, the server is not used.
 */
import { warnOnce } from '@lovely-memcached/core';
import { type FlushReason, MissedWrites } from './missed-writes';
import type { ResolvedCommonOptions, TransportEvent } from './options';

/** Keys per delete request when missed writes are applied, and requests in flight at once. */
const REPLAY_BATCH = 1000;
const REPLAY_WINDOW = 8;

/** Why a connection broke. The first four mean the server cannot serve us now; the last three do not. */
export type BreakReason =
  | 'connect'
  | 'timeout'
  | 'closed'
  /**
   * Closed by the server before it answered anything: over plain TCP typically a TLS-only port (`-Z`), over TLS a
   * server that asked for a client certificate (`ssl_verify_mode`) and refused ours.
   */
  | 'closed-before-reply'
  | 'garbage'
  | 'auth'
  | 'idle-closed'
  | 'closed-by-client';

/** What server health needs of a transport's connection. */
export interface HealthConnection {
  /** Broken for good: its socket destroyed and every pending request settled. */
  readonly broken: boolean;
  /** The socket connected at least once: the server was reachable. */
  readonly connected: boolean;
  /** The socket error code behind the break, e.g. `ECONNREFUSED`, when there was one. */
  readonly errorCode: string | undefined;
  /** Requests waiting for their replies: with several connections, the least busy one takes the next. */
  readonly load: number;
  close(): void;
}

/** How a transport opens its connections and says "are you there?" in its protocol. */
export interface ConnectionMaker<C extends HealthConnection> {
  open(onBreak: (reason: BreakReason, connection: C) => void): C;
  /** Sends the protocol's cheapest request on `connection`; `onAnswer` when its reply comes. */
  ping(connection: C, onAnswer: () => void): void;
  /** The event for refused credentials (reason `auth`), if the transport authenticates. */
  authFailedEvent?(server: string): TransportEvent;
  /**
   * Deletes `keys` on `connection`, quietly where the protocol can: true once the server answered for every
   * one, false if the connection failed first. Without it, nothing a server missed is remembered.
   */
  deleteKeys?(connection: C, keys: readonly string[]): Promise<boolean>;
  /**
   * Empties the server (`flush_all`): true once it answered. Without it (behind a proxy), a server that missed
   * more than `maxQueuedDeletes` keys, or a flush, is used again as it is, and a warning says so.
   */
  flush?(connection: C): Promise<boolean>;
}

export class ServerHealth<C extends HealthConnection> {
  /** The connection slots (`connections` of them), filled as they are needed. */
  private readonly slots: Array<C | undefined>;
  private nextSlot = 0;
  /** The probe in flight, if any: urgent requests ride on it instead of opening probes of their own. */
  private probing: C | undefined;
  private down = false;
  /** Connected at least once since the transport was made. */
  private everConnected = false;
  /** Why the server went down last, e.g. `connect (ECONNREFUSED)`, for the never-reachable warning. */
  lastFailure: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Deletes (and writes, as deletes) this server missed while down, applied before it is used again. */
  readonly missed: MissedWrites;
  /**
   * The answered probe's connection while what the server missed is applied on it: the server is not in use
   * yet, but urgent requests ride on it.
   */
  private restoring: C | undefined;
  /**
   * Until when (`performance.now()`) the gutter may hold values of this server's keys written during its last
   * outage: set by the server pool, which deletes a key there too when it is written here before then.
   */
  gutterUntil = 0;

  constructor(
    /** `host:port` */
    readonly address: string,
    private readonly maker: ConnectionMaker<C>,
    private readonly options: ResolvedCommonOptions,
    /** Told whenever this server goes down, so the transport can notice that none was ever reachable. */
    private readonly onDown: () => void = () => {},
  ) {
    this.slots = new Array<C | undefined>(options.connections).fill(undefined);
    this.missed = new MissedWrites(options.maxQueuedDeletes, maker.deleteKeys !== undefined);
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
   * (invalidations) probe a down server at once and ride on the probe's connection, behind its ping.
   */
  acquire(urgent = false): C | undefined {
    if (this.closed) return undefined;
    if (this.down) return urgent ? (this.restoring ?? this.probe()) : undefined;
    if (this.slots.length === 1) return this.slot(0);
    // Least busy, round-robin among equals: an idle connection is taken at once.
    let best: C | undefined;
    for (let i = 0; i < this.slots.length; i++) {
      const index = (this.nextSlot + i) % this.slots.length;
      const connection = this.slot(index);
      if (best === undefined || connection.load < best.load) best = connection;
      if (connection.load === 0) break;
    }
    this.nextSlot = (this.nextSlot + 1) % this.slots.length;
    return best;
  }

  close(): void {
    this.closed = true;
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.closeSlots();
    this.probing?.close();
    this.probing = undefined;
    const restoring = this.restoring;
    this.restoring = undefined;
    restoring?.close();
  }

  /** Deletes `keys` with the protocol's quiet deletes; false when the transport has none or the request failed. */
  deleteKeys(connection: C, keys: readonly string[]): Promise<boolean> {
    return this.maker.deleteKeys?.(connection, keys) ?? Promise.resolve(false);
  }

  /** `flush_all`; false when the transport has none (behind a proxy) or the request failed. */
  flush(connection: C): Promise<boolean> {
    return this.maker.flush?.(connection) ?? Promise.resolve(false);
  }

  private slot(index: number): C {
    const current = this.slots[index];
    if (current !== undefined && !current.broken) return current;
    const opened = this.maker.open((reason, broken) => this.onBreak(reason, broken));
    this.slots[index] = opened;
    return opened;
  }

  private closeSlots(): void {
    for (let i = 0; i < this.slots.length; i++) {
      const connection = this.slots[i];
      this.slots[i] = undefined;
      connection?.close();
    }
  }

  private onBreak(reason: BreakReason, broken: C): void {
    if (broken.connected) this.everConnected = true;
    const index = this.slots.indexOf(broken);
    if (index >= 0) this.slots[index] = undefined;
    // An idle socket closed by the server (a restart, an idle timeout) is simply replaced on the next call;
    // everything else means the server cannot serve us now.
    if (reason === 'closed-by-client' || reason === 'idle-closed' || this.closed) return;
    if (reason === 'auth' && this.maker.authFailedEvent !== undefined) {
      this.options.onEvent(this.maker.authFailedEvent(this.address));
    }
    this.markDown(reason, broken.errorCode);
  }

  private markDown(reason: BreakReason, code: string | undefined): void {
    if (this.down) return;
    this.down = true;
    this.lastFailure = code === undefined ? reason : `${reason} (${code})`;
    this.closeSlots();
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
  private probe(): C | undefined {
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    if (this.closed) return undefined;
    if (this.probing !== undefined) return this.probing;
    let answered = false;
    const probe = this.maker.open((reason, broken) => {
      if (broken.connected) this.everConnected = true;
      if (this.probing === broken) this.probing = undefined;
      if (this.restoring === broken) {
        // Lost while applying what the server missed: what is left stays remembered for the next probe.
        this.restoring = undefined;
        if (!this.closed) this.scheduleProbe();
        return;
      }
      if (answered) this.onBreak(reason, broken);
      else if (!this.closed) this.scheduleProbe();
    });
    this.probing = probe;
    this.maker.ping(probe, () => {
      answered = true;
      this.probing = undefined;
      this.everConnected = true;
      if (this.closed) {
        probe.close();
        return;
      }
      void this.restore(probe);
    });
    return probe;
  }

  /**
   * Applies what the server missed on the answered probe's connection, then puts the server back in use: in the
   * same turn as the check that nothing is left, so no write remembered in between is skipped.
   */
  private async restore(connection: C): Promise<void> {
    this.restoring = connection;
    const started = performance.now();
    let deletes = 0;
    let flushed: FlushReason | undefined;
    for (let step = this.missed.next(REPLAY_BATCH * REPLAY_WINDOW); step !== undefined; ) {
      let applied: boolean;
      if ('flush' in step) {
        applied = await this.flushOn(connection, step);
        flushed = step.flush;
      } else {
        const count = await this.deleteOn(connection, step);
        applied = count !== false;
        deletes += count || 0;
      }
      // Broken meanwhile (a new probe is scheduled) or closed.
      if (this.restoring !== connection) return;
      if (!applied) {
        this.restoring = undefined;
        connection.close();
        this.scheduleProbe();
        return;
      }
      step = this.missed.next(REPLAY_BATCH * REPLAY_WINDOW);
    }
    this.restoring = undefined;
    this.missed.inUse();
    this.closeSlots();
    this.slots[0] = connection;
    this.down = false;
    if (flushed !== undefined && this.maker.flush !== undefined) {
      this.options.onEvent({ type: 'flushed', server: this.address, reason: flushed });
    }
    if (deletes > 0) {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      this.options.onEvent({ type: 'replayed', server: this.address, deletes, ms });
    }
    this.options.onEvent({ type: 'server-up', server: this.address });
  }

  private async flushOn(connection: C, step: { flush: FlushReason }): Promise<boolean> {
    if (this.maker.flush === undefined) {
      warnOnce(
        `[lovely-memcached] ${this.options.transport}Transport: ${this.address} missed ${step.flush === 'flush' ? 'a flush' : 'more writes than `maxQueuedDeletes`'} while it was unreachable and cannot be flushed through a proxy: it is used again as it is, and may serve values from before its outage (behind a proxy, the proxy owns failover)`,
      );
    } else if (!(await this.maker.flush(connection))) {
      return false;
    }
    this.missed.done(step);
    return true;
  }

  /**
   * The step's keys in batches of REPLAY_BATCH, pipelined; each batch the server confirms is done at once, so a
   * connection lost midway (or a deadline missed) loses only the batches still in flight. False if one failed.
   */
  private async deleteOn(connection: C, step: { keys: string[] }): Promise<number | false> {
    const batches: Promise<boolean>[] = [];
    for (let i = 0; i < step.keys.length; i += REPLAY_BATCH) {
      const keys = step.keys.slice(i, i + REPLAY_BATCH);
      batches.push(
        this.deleteKeys(connection, keys).then((confirmed) => {
          if (confirmed && this.restoring === connection) this.missed.done({ keys });
          return confirmed;
        }),
      );
    }
    const confirmed = await Promise.all(batches);
    return confirmed.every(Boolean) ? step.keys.length : false;
  }
}
