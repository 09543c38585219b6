/**
 * A nudge for TLS connections that memcached stopped reading.
 *
 * memcached (seen with 1.6.18 on OpenSSL 3) reads one TLS record per wake-up of its event loop. When several
 * records arrive together (a burst over 16 KB: Node cuts a write into records of at most 16 KB), the others are
 * already inside OpenSSL, where the socket's poll cannot see them, and stay unread until more bytes arrive. A
 * client that sent such a burst and now only waits for the replies would wait out its deadline and mark a healthy
 * server down. So while requests are pending and nothing has come back for a short while, the connection writes
 * the protocol's no-op: its bytes wake memcached, which then reads everything it had.
 *
 * The pause before a nudge doubles while the silence lasts (a slow or dead server gets a handful of no-ops, not
 * a stream), and starts short again once bytes come back.
 */

/** First pause of silence before a nudge, in ms: replies on a LAN take well under this. */
export const FIRST_NUDGE_DELAY = 4;
const MAX_NUDGE_DELAY = 256;

export class StallNudger {
  private timer: NodeJS.Timeout | undefined;
  private delay = FIRST_NUDGE_DELAY;
  private heardSinceArmed = false;
  private stopped = false;

  constructor(
    /** Writes the protocol's no-op on the connection. */
    private readonly nudge: () => void,
    /** Requests are waiting for replies. */
    private readonly waiting: () => boolean,
  ) {}

  /** A request was written: watch for silence. */
  wrote(): void {
    if (this.timer === undefined) {
      this.heardSinceArmed = false;
      this.arm();
    }
  }

  /** Bytes came back: memcached is reading. */
  heard(): void {
    this.heardSinceArmed = true;
    this.delay = FIRST_NUDGE_DELAY;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => this.check(), this.delay);
    this.timer.unref();
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped || !this.waiting()) {
      this.delay = FIRST_NUDGE_DELAY;
      return;
    }
    if (!this.heardSinceArmed) {
      this.delay = Math.min(this.delay * 2, MAX_NUDGE_DELAY);
      this.nudge();
    }
    this.heardSinceArmed = false;
    this.arm();
  }
}
