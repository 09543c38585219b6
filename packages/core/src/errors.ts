/**
 * Every error the library throws is a `CacheError` with a stable `code`.
 *
 * Checks use `Symbol.for` brands instead of prototype identity, so `err instanceof InvalidKeyError` stays true
 * when an application loads both the ESM and the CJS copy of this package (the dual-package hazard).
 */

export type CacheErrorCode =
  | 'ERR_NO_TRANSPORT'
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_KEY'
  | 'ERR_INVALID_VALUE'
  | 'ERR_NOT_SERIALIZABLE'
  | 'ERR_VALUE_TOO_LARGE'
  | 'ERR_INVALID_LIFETIME'
  | 'ERR_KEY_TRACKING_DISABLED'
  | 'ERR_AUTH'
  | 'ERR_FACTORY_TIMEOUT'
  | 'ERR_CLIENT_CLOSED'
  | 'ERR_UNEXPECTED';

/** Extra facts about the failure (the offending key, the server), for logs and programmatic handling. */
export interface CacheErrorContext {
  key?: unknown;
  server?: string;
  [field: string]: unknown;
}

export interface CacheErrorOptions {
  cause?: unknown;
  context?: CacheErrorContext;
}

const PREFIX = '[lovely-memcached]';

type Branded = Record<symbol, unknown>;
type BrandedClass = { marker?: symbol };

function hasMarker(value: unknown, marker: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Branded)[marker] === true;
}

export class CacheError extends Error {
  static readonly marker: symbol = Symbol.for('lovely-memcached.CacheError');

  /** `instanceof` that also recognises errors created by another copy of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being checked against.
    return hasMarker(value, this.marker);
  }

  readonly code: CacheErrorCode;
  readonly context: CacheErrorContext;

  constructor(code: CacheErrorCode, message: string, options: CacheErrorOptions = {}) {
    super(message.startsWith(PREFIX) ? message : `${PREFIX} ${message}`, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
    // Brand the instance with the marker of its class and of every ancestor up to CacheError.
    for (let cls: unknown = new.target; typeof cls === 'function'; cls = Object.getPrototypeOf(cls)) {
      const { marker } = cls as BrandedClass;
      if (marker === undefined) break;
      (this as unknown as Branded)[marker] = true;
    }
  }
}

export class InvalidKeyError extends CacheError {
  static override readonly marker: symbol = Symbol.for('lovely-memcached.InvalidKeyError');
  constructor(message: string, options: CacheErrorOptions = {}) {
    super('ERR_INVALID_KEY', message, options);
  }
}

/** A value that cannot be stored: `ERR_NOT_SERIALIZABLE`, `ERR_INVALID_VALUE` or `ERR_VALUE_TOO_LARGE`. */
export class InvalidValueError extends CacheError {
  static override readonly marker: symbol = Symbol.for('lovely-memcached.InvalidValueError');
  constructor(
    code: 'ERR_NOT_SERIALIZABLE' | 'ERR_INVALID_VALUE' | 'ERR_VALUE_TOO_LARGE',
    message: string,
    options: CacheErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

export class KeyTrackingDisabledError extends CacheError {
  static override readonly marker: symbol = Symbol.for('lovely-memcached.KeyTrackingDisabledError');
  constructor(options: CacheErrorOptions = {}) {
    super(
      'ERR_KEY_TRACKING_DISABLED',
      'trackKeys not enabled: create the client with `trackKeys: true` to list keys with `keys()`',
      options,
    );
  }
}

/** The error classes in one object, for `catch` blocks that want them all at hand. */
export const errors = {
  CacheError,
  InvalidKeyError,
  InvalidValueError,
  KeyTrackingDisabledError,
} as const;

export function isCacheError(value: unknown): value is CacheError {
  return value instanceof CacheError;
}
