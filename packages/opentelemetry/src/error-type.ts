/**
 * `error.type` for a failure: a `CacheError`'s stable `code` (`ERR_...`) when it has one, else the error's
 * class name, else `_OTHER` as the conventions ask.
 */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}
