/**
 * How a connection writes its requests, for both network transports.
 *
 * The first request of a tick is written at once: a lone caller does not wait for the end of the tick (3 % of
 * a loopback round trip at concurrency 1). The rest of the tick is corked and written together at its end, in
 * one writev: 64 concurrent sets are two syscalls, not 64 (with Nagle off, which keeps a lone request from
 * waiting for an ACK). A tick that wrote more than one TLS record tells the stall nudger (stall-nudge.ts).
 *
 * The tick ends in a microtask queued by its first request (a resolved promise's `then`), not in
 * `process.nextTick` or `queueMicrotask`: test runners' fake timers fake those (Jest's by default), and every
 * request after a tick's first would stay corked until the test advanced them.
 */
import type { Socket } from 'node:net';
import { type StallNudger, TLS_RECORD_SIZE } from './stall-nudge';

/** Queues the end of a tick on the microtask queue (see above): one promise for every connection. */
const resolved = Promise.resolve();

export class TickWriter {
  private tickOpen = false;
  private corked = false;
  private tickBytes = 0;
  private readonly endTickCallback = () => this.endTick();

  constructor(
    private readonly socket: Socket,
    private readonly nudger: StallNudger | undefined,
    /** Called as the tick ends, before the corked requests leave: the last chance to add one to them. */
    private readonly beforeTickEnd?: () => void,
  ) {}

  write(bytes: Buffer | string): void {
    if (!this.tickOpen) {
      this.tickOpen = true;
      resolved.then(this.endTickCallback);
    } else if (!this.corked) {
      this.corked = true;
      this.socket.cork();
    }
    this.tickBytes += bytes.length;
    if (typeof bytes === 'string') this.socket.write(bytes, 'latin1');
    else this.socket.write(bytes);
  }

  private endTick(): void {
    this.tickOpen = false;
    this.beforeTickEnd?.();
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
    if (this.tickBytes > TLS_RECORD_SIZE) this.nudger?.burst();
    this.tickBytes = 0;
  }
}

/**
 * Why a connection closed. Before anything came back, with requests waiting: memcached -Z resets a plain-TCP
 * client (the fix is the `tls` option), and a server asking for a client certificate closes a TLS 1.3 client
 * without one after its handshake, with an alert or, when a request was already on its way, a reset that can
 * overtake the alert.
 */
export function closedReason({
  errorCode,
  tls,
  waiting,
  answered,
}: {
  errorCode: string | undefined;
  tls: boolean;
  waiting: boolean;
  answered: boolean;
}): 'closed-before-reply' | 'closed' | 'idle-closed' {
  const refused = errorCode === 'ECONNRESET' || (tls && errorCode?.startsWith('ERR_SSL_') === true);
  if (waiting && !answered && refused) return 'closed-before-reply';
  return waiting ? 'closed' : 'idle-closed';
}
