/**
 * Running the user's factory: in a promise chain we own (a throw or a thenable both become a rejection), with
 * `hardTimeout` rejecting its callers and aborting its signal, and the soft `timeout` answering a stale value.
 */
import { CacheError } from './errors';
import type { DependOn, FactoryContext, FactoryDecisions } from './factory-context';

export type Factory<T> = (context: FactoryContext<T>) => T | PromiseLike<T>;

/** Runs the user's factory in a promise chain we own; `hardTimeout` rejects and aborts its signal. */
export function runFactory<T>(
  factory: Factory<T>,
  decisions: FactoryDecisions,
  stale: T | undefined,
  dependOn: DependOn,
  hardTimeout: number | undefined,
): Promise<T> {
  const controller = new AbortController();
  const context = decisions.context(stale, controller.signal, dependOn);
  const result = new Promise<T>((resolve) => resolve(factory(context)));
  if (hardTimeout === undefined) return result;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new CacheError(
        'ERR_FACTORY_TIMEOUT',
        `the factory did not finish within hardTimeout (${hardTimeout} ms): its result is dropped and its signal aborted`,
        { context: { hardTimeout } },
      );
      controller.abort(error);
      reject(error);
    }, hardTimeout);
    result.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The refresh's value if it comes within `timeout`, else (or if it fails) the stale value. */
export function withSoftTimeout<T>(refresh: Promise<T>, timeout: number, stale: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(stale), timeout);
    refresh.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(stale);
      },
    );
  });
}
