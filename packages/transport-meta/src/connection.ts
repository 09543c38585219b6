/**
 * One socket to one memcached server (or proxy), speaking the text protocol: requests are pipelined, and
 * replies come back in the order of the requests.
 *
 * Meta requests carry an opaque token (`O17`) that the server copies into the reply, so every reply is checked
 * against the request it answers; quiet requests (`q`) get no reply when their outcome is the usual one (a
 * miss, a delete done), so a quiet request is settled "by silence" when a reply to a later request arrives. A
 * tick that ends with quiet requests ends with `mn`, whose `MN` reply closes them.
 *
 * As in the memjs transport, a connection is used once: anything that goes wrong (an error, a close with
 * requests pending, bytes that are not memcached's replies, a reply that does not answer the request it should,
 * a missed deadline) breaks it for good — socket destroyed, buffer dropped, every pending request settled as
 * failed — and the next request gets a new connection.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import {
  type BreakReason,
  closedReason,
  type HealthConnection,
  openSocket,
  type ServerEndpoint,
  StallNudger,
  TickWriter,
} from '@lovely-memcached/transport-kit';
import { type Reply, ReplyReader } from './reply-reader';

export interface Pending {
  /** The number of the `O` flag the request carries; undefined for classic commands, matched by order alone. */
  opaque: number | undefined;
  /** A batch's opaques are `opaque` up to (not including) `opaqueEnd`, one per request in it. */
  opaqueEnd?: number;
  /** A quiet request: no reply when its outcome is the usual one. */
  quiet: boolean;
  /**
   * A batch of quiet requests ending with its own `mn`: every reply carrying one of its opaques belongs to it,
   * and `MN` completes it (a multi-get: one entry, not one per key).
   */
  batch?: boolean;
  /** Handles a reply; true when the request is complete (classic `gets` and `stats` take several). */
  onReply(reply: Reply): boolean;
  /** A quiet request that got no reply: its usual outcome. */
  onSilent(): void;
  /** The connection broke before the request was answered. */
  onFail(): void;
}

interface Entry extends Pending {
  deadline: number;
  /** The `mn` that closes a tick's quiet requests. */
  terminator: boolean;
}

export interface ConnectionSettings extends ServerEndpoint {
  timeout: number;
  maxItemSize: number;
  tls: ConnectionOptions | undefined;
  /** Sent first on every connection (ASCII authentication); its reply must be `STORED`. */
  hello: Buffer | undefined;
  /** Classic commands only (behind a proxy): no `mn`. */
  classic: boolean;
}

const NOOP = () => {};
const TERMINATOR = Buffer.from('mn\r\n');
const VERSION = Buffer.from('version\r\n');

/** Replies that answer the oldest unanswered request whatever it was: they carry no opaque. */
function isErrorReply(code: string): boolean {
  return code === 'ERROR' || code === 'CLIENT_ERROR' || code === 'SERVER_ERROR';
}

/** Whether a reply's opaque is the one `entry` is waiting for (one of a batch's). */
function answers(entry: Entry, opaque: number | undefined): boolean {
  if (entry.batch !== true || entry.opaque === undefined || opaque === undefined)
    return entry.opaque === opaque;
  return opaque >= entry.opaque && opaque < (entry.opaqueEnd ?? entry.opaque + 1);
}

/** Opaques count up to this and start again at 1 (memcached takes up to 32 bytes; ours stay short). */
const MAX_OPAQUE = 1_000_000_000;

export class Connection implements HealthConnection {
  broken = false;
  connected = false;
  errorCode: string | undefined;
  private readonly socket: Socket;
  private readonly reader: ReplyReader;
  /** Requests in the order they were written (replies come back in that order). */
  private queue: Entry[] = [];
  private head = 0;
  private nextOpaque = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The last request written this tick was quiet: the tick ends with `mn`. */
  private quietOpen = false;
  /** A reply came on this connection: a close after that is not a refusal. */
  private answered = false;
  /** Over TLS only: wakes a memcached that left part of a burst unread (see stall-nudge.ts in the kit). */
  private readonly nudger: StallNudger | undefined;
  /** The tick's quiet requests end with `mn`, added as the tick ends. */
  private readonly writer: TickWriter;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly onBreak: (reason: BreakReason, connection: Connection) => void,
  ) {
    this.reader = new ReplyReader(settings.maxItemSize);
    const { socket, readyEvent } = openSocket(settings, settings.tls);
    this.socket = socket;
    this.nudger =
      settings.tls === undefined
        ? undefined
        : new StallNudger(
            () => this.nudge(),
            () => this.load > 0,
          );
    this.writer = new TickWriter(socket, this.nudger, () => {
      if (this.quietOpen && !this.broken) this.terminate();
    });
    socket.on(readyEvent, () => {
      this.connected = true;
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.errorCode = error.code;
      // Not `socket.connecting`: Node clears it before emitting a refused connection's error (and a TLS
      // handshake that fails comes after the TCP connect).
      this.break(this.connected ? this.closedReason() : 'connect');
    });
    socket.on('close', () => this.break(this.connected ? this.closedReason() : 'connect'));
    if (settings.hello !== undefined) this.authenticate(settings.hello);
  }

  /** Requests waiting for their replies. */
  get load(): number {
    return this.queue.length - this.head;
  }

  /**
   * Fresh opaque numbers for meta requests on this connection: `count` in a row, the first returned. They are
   * not reused while a request could still be waiting with one (a billion requests apart).
   */
  opaque(count = 1): number {
    if (this.nextOpaque + count >= MAX_OPAQUE) this.nextOpaque = 0;
    const first = this.nextOpaque + 1;
    this.nextOpaque += count;
    return first;
  }

  /**
   * Writes one request (already encoded: a bad argument failed before anything was registered) and registers
   * what to do with its reply.
   */
  send(bytes: Buffer | string, pending: Pending): void {
    if (this.broken) {
      pending.onFail();
      return;
    }
    this.push(pending, false);
    this.quietOpen = pending.quiet;
    this.writer.write(bytes);
    this.nudger?.wrote();
  }

  close(): void {
    this.break('closed-by-client');
  }

  private push(pending: Pending, terminator: boolean): void {
    const entry = pending as Entry;
    entry.deadline = performance.now() + this.settings.timeout;
    entry.terminator = terminator;
    this.queue.push(entry);
    if (this.timer === undefined) this.arm(this.settings.timeout);
  }

  /**
   * The cheapest request, to wake a stalled memcached: `mn` (answered by `MN` alone, which also ends quiet
   * requests before it), or `version` where a proxy would not know `mn`.
   */
  private nudge(): void {
    if (!this.settings.classic) {
      this.terminate();
      return;
    }
    if (this.broken) return;
    this.push({ opaque: undefined, quiet: false, onReply: () => true, onSilent: NOOP, onFail: NOOP }, false);
    this.writer.write(VERSION);
  }

  /** `mn`: ends the quiet requests written before it (and, over TLS, wakes a stalled memcached). */
  private terminate(): void {
    if (this.broken) return;
    this.quietOpen = false;
    this.push({ opaque: undefined, quiet: false, onReply: () => true, onSilent: NOOP, onFail: NOOP }, true);
    this.writer.write(TERMINATOR);
  }

  /** memcached -Y: the credentials go first, as a `set`; everything after waits behind it on the server. */
  private authenticate(hello: Buffer): void {
    this.push(
      {
        opaque: undefined,
        quiet: false,
        onReply: (reply) => {
          // Settle everything before reporting, so no caller waits on a connection that cannot serve it.
          // A resolved promise's `then`, not `queueMicrotask`: test runners' fake timers fake the latter.
          if (reply.code !== 'STORED') Promise.resolve().then(() => this.break('auth'));
          return true;
        },
        onSilent: NOOP,
        onFail: NOOP,
      },
      false,
    );
    this.writer.write(hello);
  }

  private closedReason(): BreakReason {
    return closedReason({
      errorCode: this.errorCode,
      tls: this.settings.tls !== undefined,
      waiting: this.load > 0,
      answered: this.answered,
    });
  }

  /** One timer per connection, armed for the oldest pending request (replies come back in request order). */
  private arm(delay: number): void {
    this.timer = setTimeout(() => this.checkDeadlines(), Math.max(1, delay));
    this.timer.unref();
  }

  private checkDeadlines(): void {
    this.timer = undefined;
    const oldest = this.queue[this.head];
    if (oldest === undefined) return;
    const left = oldest.deadline - performance.now();
    if (left <= 0) this.break('timeout');
    else this.arm(left);
  }

  private receive(chunk: Buffer): void {
    this.answered = true;
    this.nudger?.heard();
    const replies = this.reader.feed(chunk);
    if (replies === false) {
      this.break('garbage');
      return;
    }
    for (const reply of replies) {
      if (!this.dispatch(reply)) {
        this.break('garbage');
        return;
      }
      if (this.broken) return;
    }
    this.compact();
  }

  /** Gives a reply to the request it answers; false when it answers none (out of step: drop the connection). */
  private dispatch(reply: Reply): boolean {
    const { code } = reply;
    if (isErrorReply(code)) {
      // An error carries no opaque: it answers a quiet request or the first one after them. Quiet requests
      // before it are failed (their outcome is unknown), and an error can never close a tick (`mn` has none).
      let entry = this.queue[this.head];
      while (entry?.quiet) {
        this.head++;
        entry.onFail();
        entry = this.queue[this.head];
      }
      if (entry === undefined) return false;
      // A batch's error belongs to one of its keys (left out); `mn` never answers with an error.
      if (entry.terminator || entry.batch === true) return true;
      if (entry.onReply(reply)) this.head++;
      return true;
    }
    const closing = code === 'MN';
    const opaque = closing ? undefined : reply.opaque;
    let entry = this.queue[this.head];
    // Quiet requests skipped by this reply were answered by silence.
    while (entry?.quiet && (opaque === undefined || !answers(entry, opaque))) {
      this.head++;
      entry.onSilent();
      entry = this.queue[this.head];
    }
    if (entry === undefined) return false;
    if (closing) {
      // `MN` closes a tick's quiet requests or a batch, and answers nothing else.
      if (!entry.terminator && entry.batch !== true) return false;
      this.head++;
      entry.onReply(reply);
    } else {
      if (!answers(entry, opaque) || entry.terminator) return false;
      if (entry.onReply(reply) && entry.batch !== true) this.head++;
    }
    if (this.head === this.queue.length && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return true;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private break(reason: BreakReason): void {
    if (this.broken) return;
    this.broken = true;
    this.nudger?.stop();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.socket.destroy();
    this.reader.reset();
    const pending = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const entry of pending) entry.onFail();
    this.onBreak(reason, this);
  }
}
