/**
 * A token record's text: the dependency's (or namespace's) current token, a UUID; after a soft invalidation,
 * also the token it replaced and when: `<current> <replaced> <ms since the epoch>`.
 *
 * An entry stamped with the current token is live; with the replaced one, stale since then (soft invalidation:
 * `getOrSet` may serve it within grace while one caller refreshes; `query` misses); with any other, dead.
 */
import { asBuffer } from './bytes';
import type { TransportItem } from './transport';

const TOKEN_LENGTH = 36;

/** A token record as text: tokens are ASCII (UUIDs), so latin1 decoding is exact and cheapest. */
export function tokenText(item: TransportItem | undefined): string | undefined {
  return item === undefined ? undefined : asBuffer(item.value).toString('latin1');
}

/** The current token of a record's text. */
export function currentToken(text: string): string {
  return text.length > TOKEN_LENGTH ? text.slice(0, TOKEN_LENGTH) : text;
}

/** The text of a soft invalidation: a new current token, the one it replaced, and when. */
export function softReplacement(next: string, replaced: string, atMs: number): string {
  return `${next} ${currentToken(replaced)} ${Math.round(atMs)}`;
}

/**
 * The text of token items already read, by item: the queries of one batch that share a dependency share its
 * token's item (read-batcher.ts), and read its text once (at 64 concurrent queries of entries with 3
 * dependencies, making that text per query, or comparing its bytes in JS, showed in the profile).
 */
const tokenTexts = new WeakMap<TransportItem, string>();

function textOf(item: TransportItem): string {
  let text = tokenTexts.get(item);
  if (text === undefined) {
    text = tokenText(item) as string;
    tokenTexts.set(item, text);
  }
  return text;
}

/** Whether a token item's current token is `token`. */
export function holdsToken(item: TransportItem | undefined, token: string): boolean {
  if (item === undefined) return false;
  const text = textOf(item);
  return (
    text === token || (text.length > TOKEN_LENGTH && text.startsWith(token) && text[TOKEN_LENGTH] === ' ')
  );
}

/**
 * What an entry stamped with `token` is under this record: `true` live, `false` dead, or the time (ms) since
 * which it is stale, when a soft invalidation replaced exactly that token.
 */
export function tokenState(item: TransportItem | undefined, token: string): boolean | number {
  if (holdsToken(item, token)) return true;
  if (item === undefined) return false;
  const text = textOf(item);
  if (text.length <= TOKEN_LENGTH) return false;
  const [, replaced, at] = text.split(' ');
  return replaced === token && at !== undefined && Number.isFinite(Number(at)) ? Number(at) : false;
}
