import { expect } from 'vitest';
import { CacheError } from '../../src/errors';

/** The CacheError `make` throws synchronously (a constructor refusing an option); fails the test otherwise. */
export function thrown(make: () => unknown): CacheError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(CacheError);
    return error as CacheError;
  }
  throw new Error('did not throw');
}
