/**
 * One socket to one memcached server, with requests matched to replies by their opaque number.
 *
 * memjs can leave a promise unsettled forever in three ways (measured with memjs 1.3.2): a socket closed while a
 * request is pending, a new socket wiped by the old socket's late close handler, and a partial reply that
 * poisons the read buffer so every later request times out. Here a connection is used once: anything that goes
 * wrong (an error, a close with requests pending, a reply that is not a memcached reply, a missed deadline)
 * breaks it for good — its socket destroyed, its buffer dropped, every pending request settled as failed — and
 * the next request gets a new connection. State lives on the connection object, so an old socket's handlers can
 * only ever touch the old connection.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { BreakReason, HealthConnection } from '@lovely-memcached/transport-kit';
import { closedReason, openSocket, StallNudger, TickWriter } from '@lovely-memcached/transport-kit';
import {
  Op,
  parseResponse,
  RESPONSE_MAGIC,
  type Response,
  Status,
  saslPlainRequest,
  simpleRequest,
} from './protocol';

/** Handles one reply; returns true when the request is complete (multi-reply requests return false until then). */
export type ReplyHandler = (response: Response) => boolean;

interface Pending {
  onReply: ReplyHandler;
  onFail: () => void;
  deadline: number;
}

export interface ConnectionSettings {
  host: string;
  port: number;
  timeout: number;
  username: string | undefined;
  password: string | undefined;
  /** TLS options (`memcached -Z`), or undefined for plain TCP. */
  tls: ConnectionOptions | undefined;
  /** Told the status of a refused SASL request, before the connection breaks with reason `auth`. */
  onAuthRefused?: (status: number) => void;
}

export class Connection implements HealthConnection {
  broken = false;
  /** The socket connected at least once: the server was reachable. */
  connected = false;
  /** Any byte came back on this connection. */
  private answered = false;
  /** The socket error code behind the break, e.g. `ECONNREFUSED`, when there was one. */
  errorCode: string | undefined;
  /** Requests written before the socket could take them (SASL not yet done). */
  private held: Buffer[] | undefined;
  private readonly socket: Socket;
  private readonly pending = new Map<number, Pending>();
  /** Bytes received and not yet parsed: kept as chunks until a whole frame is in, then joined once. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private nextOpaque = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Over TLS only: wakes a memcached that left part of a burst unread (see stall-nudge.ts in the kit). */
  private readonly nudger: StallNudger | undefined;
  private readonly writer: TickWriter;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly onBreak: (reason: BreakReason, connection: Connection) => void,
  ) {
    const { socket, readyEvent } = openSocket(settings, settings.tls);
    this.socket = socket;
    this.nudger =
      settings.tls === undefined
        ? undefined
        : new StallNudger(
            () =>
              this.send(
                (opaque) => simpleRequest(Op.NOOP, opaque),
                () => true,
                () => {},
              ),
            () => this.pending.size > 0,
          );
    this.writer = new TickWriter(socket, this.nudger);
    // Over TLS, connected means the handshake succeeded: a certificate the client rejects is a `connect` failure
    // whose code names the TLS error (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED).
    this.socket.on(readyEvent, () => {
      this.connected = true;
    });
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.errorCode = error.code;
      // Not `socket.connecting`: Node clears it before emitting a refused connection's error.
      this.break(this.connected ? this.closedReason() : 'connect');
    });
    this.socket.on('close', () => this.break(this.closedReason()));
    if (settings.username !== undefined && settings.password !== undefined) this.authenticate();
  }

  /**
   * Sends one request. The request is encoded before it is registered: an encoding that throws (a bad
   * argument) fails that call alone, and leaves no pending entry whose deadline would break the connection.
   */
  send(build: (opaque: number) => Buffer, onReply: ReplyHandler, onFail: () => void): void {
    if (this.broken) {
      onFail();
      return;
    }
    const opaque = (this.nextOpaque + 1) >>> 0;
    const bytes = build(opaque);
    this.nextOpaque = opaque;
    this.pending.set(opaque, { onReply, onFail, deadline: performance.now() + this.settings.timeout });
    if (this.held) this.held.push(bytes);
    else this.writer.write(bytes);
    if (this.timer === undefined) this.arm(this.settings.timeout);
    this.nudger?.wrote();
  }

  /** Requests waiting for their replies. */
  get load(): number {
    return this.pending.size;
  }

  close(): void {
    this.break('closed-by-client');
  }

  private closedReason(): BreakReason {
    return closedReason({
      errorCode: this.errorCode,
      tls: this.settings.tls !== undefined,
      waiting: this.pending.size > 0,
      answered: this.answered,
    });
  }

  private authenticate(): void {
    this.held = [];
    this.nextOpaque = (this.nextOpaque + 1) >>> 0;
    const opaque = this.nextOpaque;
    this.pending.set(opaque, {
      deadline: performance.now() + this.settings.timeout,
      onFail: () => {},
      onReply: (response) => {
        if (response.status !== Status.OK) {
          this.settings.onAuthRefused?.(response.status);
          // Settle everything before reporting, so no caller waits on a connection that cannot serve it.
          // A resolved promise's `then`, not `queueMicrotask`: test runners' fake timers fake the latter.
          Promise.resolve().then(() => this.break('auth'));
          return true;
        }
        const held = this.held ?? [];
        this.held = undefined;
        for (const bytes of held) this.writer.write(bytes);
        return true;
      },
    });
    this.socket.write(saslPlainRequest(this.settings.username ?? '', this.settings.password ?? '', opaque));
    if (this.timer === undefined) this.arm(this.settings.timeout);
  }

  /** One timer per connection, armed for the oldest pending request (replies come back in request order). */
  private arm(delay: number): void {
    this.timer = setTimeout(() => this.checkDeadlines(), Math.max(1, delay));
    this.timer.unref();
  }

  private checkDeadlines(): void {
    this.timer = undefined;
    const oldest = this.pending.values().next().value as Pending | undefined;
    if (oldest === undefined) return;
    const left = oldest.deadline - performance.now();
    if (left <= 0) this.break('timeout');
    else this.arm(left);
  }

  private receive(chunk: Buffer): void {
    this.answered = true;
    this.nudger?.heard();
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // Not a reply's first byte: out of step or not memcached at all; no need to wait for more to know.
    if ((this.chunks[0] as Buffer)[0] !== RESPONSE_MAGIC) {
      this.break('garbage');
      return;
    }
    // A large value arrives in many chunks: join them once the whole frame is in, not on every chunk.
    if (this.buffered < this.frameLength()) return;
    const data =
      this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    // Replies are read where they lie, frame after frame; only an incomplete last one is kept for later.
    let offset = 0;
    while (offset < data.length) {
      const response = parseResponse(data, offset);
      if (response === 'incomplete') break;
      if (response === 'garbage') {
        this.break('garbage');
        return;
      }
      const pending = this.pending.get(response.opaque);
      // Opaques are never reused on a connection: a reply nobody asked for means we are out of step.
      if (pending === undefined) {
        this.break('garbage');
        return;
      }
      offset += response.length;
      if (pending.onReply(response)) this.pending.delete(response.opaque);
      if (this.broken) return;
    }
    if (offset < data.length) {
      this.chunks = [data.subarray(offset)];
      this.buffered = data.length - offset;
    }
  }

  /** Bytes needed for the first buffered frame: its header, then its header's body length. */
  private frameLength(): number {
    const first = this.chunks[0] as Buffer;
    if (this.buffered < 24) return 24;
    const header = first.length >= 24 ? first : Buffer.concat(this.chunks, this.buffered);
    if (header !== first) this.chunks = [header];
    return 24 + header.readUInt32BE(8);
  }

  private break(reason: BreakReason): void {
    if (this.broken) return;
    this.broken = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.nudger?.stop();
    this.socket.destroy();
    this.chunks = [];
    this.buffered = 0;
    this.held = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) request.onFail();
    this.onBreak(reason, this);
  }
}
