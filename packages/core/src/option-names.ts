/**
 * Option objects with a name the library does not know are refused, naming it and the closest known name: a
 * misspelt or borrowed option (`timout`, `sever`, `ttl`) would otherwise be ignored without a word, and the
 * client would run with the default it was meant to replace (`servers` falling back to 127.0.0.1:11211).
 */
import { describeValue } from './describe-value';
import { CacheError } from './errors';

/** The names an options object may hold; `satisfies Record<keyof X, true>` keeps each list in step with its type. */
export type OptionNames = Readonly<Record<string, true>>;

/**
 * Names other caches use for what is called otherwise here; the first of a list that the object knows is
 * suggested, with a note when the unit differs from the peer's.
 */
const ALIASES: Readonly<Record<string, { names: readonly string[]; note?: string }>> = {
  ttl: { names: ['lifetime', 'defaultLifetime', 'maxLifetime'], note: 'seconds, or a string with a unit' },
  expires: { names: ['lifetime', 'defaultLifetime'], note: 'seconds, or a string with a unit' },
  expiry: { names: ['lifetime', 'defaultLifetime'], note: 'seconds, or a string with a unit' },
  expire: { names: ['lifetime', 'defaultLifetime'], note: 'seconds, or a string with a unit' },
  expiration: { names: ['lifetime', 'defaultLifetime'], note: 'seconds, or a string with a unit' },
  maxAge: { names: ['lifetime', 'defaultLifetime'], note: 'seconds, or a string with a unit' },
  defaultTtl: { names: ['defaultLifetime'], note: 'seconds, or a string with a unit' },
  namespace: { names: ['ns', 'defaultNS'] },
  prefix: { names: ['ns', 'defaultNS'] },
  keyPrefix: { names: ['ns', 'defaultNS'] },
  tags: { names: ['dependencies'] },
  host: { names: ['servers'] },
  hosts: { names: ['servers'] },
  server: { names: ['servers'] },
  location: { names: ['servers'] },
  url: { names: ['servers'] },
  user: { names: ['username'] },
  pass: { names: ['password'] },
  lockTimeoutMs: { names: ['lockTimeout'] },
  timeoutMs: { names: ['timeout'] },
  staleTtl: { names: ['grace'] },
  staleWhileRevalidate: { names: ['grace'] },
  gracePeriod: { names: ['grace'] },
};

/**
 * The names some call takes. One options object is often shared by several calls (`set` and `query`, `set` and
 * `invalidate`), which TypeScript allows for a variable: a name another call takes is let through where it does
 * not apply, as before; a name no call takes (`ttl`, `timout`) is refused.
 */
const CALL_OPTION_NAMES = new Set<string>();

/** A call's option names, registered as names some call takes (see `checkCallOptionNames`). */
export function callOptionNames<N extends OptionNames>(names: N): N {
  for (const name of Object.keys(names)) CALL_OPTION_NAMES.add(name);
  return names;
}

/** As `checkOptionNames`, for a call's options: a name another call takes passes (a shared options object). */
export function checkCallOptionNames(what: string, options: object, known: OptionNames): void {
  for (const name in options) {
    if (known[name] !== true && !CALL_OPTION_NAMES.has(name)) throw unknownOption(what, name, known);
  }
}

/**
 * Refuses a name of `options` that is not in `known`, as `ERR_INVALID_OPTION`. Walks the object's own names
 * without building a list of them: call options are checked on every call that passes some.
 */
export function checkOptionNames(what: string, options: object, known: OptionNames): void {
  for (const name in options) {
    if (known[name] !== true) throw unknownOption(what, name, known);
  }
}

/** Refuses an options argument that is not an object (`set(k, v, 60)`), naming what was given. */
export function checkOptionsObject(what: string, options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CacheError('ERR_INVALID_OPTION', `${what} must be an object, got ${describeValue(options)}`, {
      context: { value: options },
    });
  }
}

function unknownOption(what: string, name: string, known: OptionNames): CacheError {
  const suggestion = closestName(name, known);
  let advice: string;
  if (suggestion === undefined) {
    advice = `: known options are ${Object.keys(known)
      .map((option) => `\`${option}\``)
      .join(', ')}`;
  } else {
    const alias = ALIASES[name] ?? ALIASES[name.toLowerCase()];
    const note = alias?.names.includes(suggestion) === true ? alias.note : undefined;
    advice = `: did you mean \`${suggestion}\`${note === undefined ? '' : ` (${note})`}?`;
  }
  return new CacheError('ERR_INVALID_OPTION', `unknown option \`${name}\` in ${what}${advice}`, {
    context: { option: name, ...(suggestion === undefined ? {} : { suggestion }) },
  });
}

/** The known name `name` most likely meant: an alias, the same name in other case, or one or two typos away. */
export function closestName(name: string, known: OptionNames): string | undefined {
  const alias = ALIASES[name] ?? ALIASES[name.toLowerCase()];
  const aliased = alias?.names.find((candidate) => Object.hasOwn(known, candidate));
  if (aliased !== undefined) return aliased;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of Object.keys(known)) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Two edits are a typo in a long name (`sever` → `servers`), a different word in a short one (`ttl` → `tls`).
  const allowed = lower.length <= 3 ? 1 : lower.length <= 5 ? 2 : 3;
  if (bestDistance <= allowed) return best;
  // A name cut short or with a unit added: `memory` → `memoryLimit`, `lifetimeSeconds` → `lifetime`.
  if (lower.length < 4) return undefined;
  return Object.keys(known).find((candidate) => {
    const other = candidate.toLowerCase();
    return other.length >= 4 && (other.startsWith(lower) || lower.startsWith(other));
  });
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit (`tiemout` → `timeout`). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  const first = rows[0] as number[];
  for (let j = 1; j <= b.length; j++) first[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const previous = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = distance;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}
