/**
 * A nudge for TLS connections that memcached stopped reading.
 *
 * memcached (seen with 1.6.18 on OpenSSL 3) reads one TLS record per wake-up of its event loop. When several
 * records arrive together (a burst over 16 KB: Node cuts a write into records of at most 16 KB), the last are
 * already inside OpenSSL, where the socket's poll cannot see them, and stay unread until more bytes arrive. A
 * client that sent such a burst and now only waits for the replies would wait out its deadline and mark a healthy
 * server down. So the connection writes the protocol's no-op, whose bytes wake memcached, which then reads
 * everything it had:
 *
 * - right after a burst that took more than one record (`burst()`): that is when memcached stalls, and the
 *   replies to the burst's first records keep coming meanwhile, so waiting for a silence would cost milliseconds;
 * - after any silence of `FIRST_NUDGE_DELAY` while requests wait (records of separate writes can also arrive
 *   together at a busy server). The pause before the next nudge doubles while the silence lasts (a slow or dead
 *   server gets a handful of no-ops, not a stream) and is short again once bytes come back.
 */

/** Silence before a nudge, in ms, while requests wait: replies on a LAN take well under this. */
export const FIRST_NUDGE_DELAY = 4;
/** After a burst of more than one TLS record: about when memcached has read the records it will read. */
export const BURST_NUDGE_DELAY = 1;
/** Node's largest TLS record (16 KB of data): a write larger than this is several records. */
export const TLS_RECORD_SIZE = 16 * 1024;
const MAX_NUDGE_DELAY = 256;

export class StallNudger {
  private timer: NodeJS.Timeout | undefined;
  private burstTimer: NodeJS.Timeout | undefined;
  private delay = FIRST_NUDGE_DELAY;
  /** When the last write started the watch or the last byte came back (performance.now()). */
  private lastSign = 0;
  private stopped = false;

  constructor(
    /** Writes the protocol's no-op on the connection. */
    private readonly nudge: () => void,
    /** Requests are waiting for replies. */
    private readonly waiting: () => boolean,
  ) {}

  /** A request was written: watch for silence. */
  wrote(): void {
    if (this.timer !== undefined) return;
    this.lastSign = performance.now();
    this.arm(this.delay);
  }

  /** The requests of one tick took more than one TLS record: nudge once memcached has read what it will. */
  burst(): void {
    if (this.stopped || this.burstTimer !== undefined) return;
    this.burstTimer = setTimeout(() => {
      this.burstTimer = undefined;
      if (!this.stopped && this.waiting()) this.nudge();
    }, BURST_NUDGE_DELAY);
    this.burstTimer.unref();
  }

  /** Bytes came back: memcached is reading. */
  heard(): void {
    this.lastSign = performance.now();
    this.delay = FIRST_NUDGE_DELAY;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of [this.timer, this.burstTimer]) if (timer !== undefined) clearTimeout(timer);
    this.timer = undefined;
    this.burstTimer = undefined;
  }

  private arm(delay: number): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => this.check(), Math.max(1, delay));
    this.timer.unref();
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped || !this.waiting()) {
      this.delay = FIRST_NUDGE_DELAY;
      return;
    }
    const quiet = performance.now() - this.lastSign;
    // Timers fire up to a millisecond off either way: a silence that nearly lasted counts.
    if (quiet + 0.5 < this.delay) {
      this.arm(this.delay - quiet);
      return;
    }
    this.delay = Math.min(this.delay * 2, MAX_NUDGE_DELAY);
    this.lastSign = performance.now();
    this.nudge();
    this.arm(this.delay);
  }
}
