/**
 * When a read-through entry stops being fresh, kept inside the entry itself.
 *
 * memcached only knows when an item disappears. `getOrSet` stores an entry for `lifetime + grace` seconds and
 * writes the end of its lifetime ("fresh until") into the entry, so every reader, in any process, can tell a
 * fresh value from a stale one that may still be served while someone refreshes it (bentocache's logical vs
 * physical TTL). It also keeps how long the factory took, for XFetch's early refresh.
 *
 * Header (12 bytes, before the dependency stamps): [f64 fresh-until, ms since the epoch; 0 = never stale]
 * [u32 factory duration, ms].
 */

export const FRESHNESS_HEADER_LENGTH = 12;

export interface Freshness {
  /** Milliseconds since the epoch after which the value is stale; `Infinity` when it never goes stale. */
  freshUntil: number;
  /** How long the factory took to compute the value, in milliseconds (XFetch's delta). */
  computeMs: number;
}

export function writeFreshness(target: Buffer, offset: number, { freshUntil, computeMs }: Freshness): void {
  target.writeDoubleBE(Number.isFinite(freshUntil) ? freshUntil : 0, offset);
  target.writeUInt32BE(Math.min(0xffff_ffff, Math.max(0, Math.round(computeMs))), offset + 8);
}

/** Undefined when the bytes are too short to hold a header (a truncated or foreign item). */
export function readFreshness(bytes: Buffer, offset = 0): Freshness | undefined {
  if (bytes.length - offset < FRESHNESS_HEADER_LENGTH) return undefined;
  const until = bytes.readDoubleBE(offset);
  if (!Number.isFinite(until) || until < 0) return undefined;
  return {
    freshUntil: until === 0 ? Number.POSITIVE_INFINITY : until,
    computeMs: bytes.readUInt32BE(offset + 8),
  };
}

export function isFresh(freshness: Freshness | undefined, nowMs: number): boolean {
  return freshness === undefined || nowMs < freshness.freshUntil;
}

/**
 * XFetch (Vattani, Chierichetti, Lowenstein: "Optimal Probabilistic Cache Stampede Prevention", as Symfony's
 * `$beta`): refresh a fresh value early with a probability that grows as its end nears, scaled by how long it
 * takes to recompute, so one caller recomputes before the value expires instead of many after.
 */
export function shouldRefreshEarly(
  freshness: Freshness | undefined,
  nowMs: number,
  beta: number,
  random: () => number = Math.random,
): boolean {
  // A value computed in no measurable time is never refreshed early: the draw below would add nothing.
  if (freshness === undefined || beta <= 0 || freshness.computeMs === 0) return false;
  if (!Number.isFinite(freshness.freshUntil)) return false;
  // -ln(U) for U in (0, 1] is an exponential draw; 1 - Math.random() avoids ln(0).
  return nowMs + freshness.computeMs * beta * -Math.log(1 - random()) >= freshness.freshUntil;
}
