import { describe, expect, it } from 'vitest';
import {
  CacheError,
  errors,
  InvalidKeyError,
  InvalidValueError,
  KeyTrackingDisabledError,
} from '../src/errors';

describe('errors', () => {
  it('carry a code, a prefixed message, context and cause', () => {
    const cause = new Error('root');
    const error = new InvalidKeyError('bad key', { cause, context: { key: 'k' } });
    expect(error.code).toBe('ERR_INVALID_KEY');
    expect(error.message).toBe('[lovely-memcached] bad key');
    expect(error.context.key).toBe('k');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('InvalidKeyError');
    expect(error).toBeInstanceOf(Error);
  });

  it('are recognised by class, including the base class', () => {
    const error = new InvalidValueError('ERR_NOT_SERIALIZABLE', 'nope');
    expect(error instanceof InvalidValueError).toBe(true);
    expect(error instanceof CacheError).toBe(true);
    expect(error instanceof InvalidKeyError).toBe(false);
    expect(new CacheError('ERR_AUTH', 'x') instanceof InvalidValueError).toBe(false);
  });

  it('are recognised across package copies through Symbol.for brands', () => {
    // What an error thrown by the CJS copy looks like to the ESM copy: another class, the same brands.
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('lovely-memcached.CacheError')]: true,
      [Symbol.for('lovely-memcached.InvalidKeyError')]: true,
      code: 'ERR_INVALID_KEY',
    });
    expect(foreign instanceof CacheError).toBe(true);
    expect(foreign instanceof InvalidKeyError).toBe(true);
    expect(foreign instanceof KeyTrackingDisabledError).toBe(false);
    expect(new Error('plain') instanceof CacheError).toBe(false);
  });

  it('keep the seed wording for key tracking', () => {
    expect(new KeyTrackingDisabledError().message).toContain('trackKeys not enabled');
    expect(errors.KeyTrackingDisabledError).toBe(KeyTrackingDisabledError);
  });
});
