/**
 * What a factory may decide while it computes (bentocache's `ctx`, FusionCache's adaptive caching): the lifetime
 * and grace of its value once it knows them (a token's expiry), that its value must not be cached, and which
 * further dependencies its value rests on, discovered while computing.
 *
 * `dependOn` reads the dependencies' tokens when it is called, so a dependency invalidated after it and before the
 * write leaves the value dead on arrival ("no stale set"): call it before reading the data it protects.
 */
import type { DependencyRecords } from './dependencies';
import type { TokenStamp } from './entry-format';
import { seconds } from './get-or-set-options';

export interface FactoryOptions {
  /** Seconds the value is fresh (0: forever), or a duration string; replaces the call's `lifetime`. */
  lifetime?: number | string;
  /** Seconds the value stays servable after its lifetime, or a duration string; replaces the call's `grace`. */
  grace?: number | string;
}

export interface FactoryContext<T> {
  /** The stale value being refreshed, if there is one. */
  stale: T | undefined;
  /** Aborted when the caller stops waiting (`hardTimeout`): stop the work, its result would be dropped. */
  signal: AbortSignal;
  /** The lifetime and grace of this value, decided now (e.g. from the fetched token's expiry). */
  setOptions(options: FactoryOptions): void;
  /** Returns the value to the callers, caches nothing. */
  skip(): void;
  /**
   * Ties the value to more dependencies (in the call's namespace). Their tokens are read now: await it before
   * reading the data they protect.
   */
  dependOn(...dependencies: unknown[]): Promise<void>;
}

/** Dependencies a factory added: their records and the tokens read when it asked. */
export interface AddedDependencies {
  records: readonly DependencyRecords[];
  stamps: readonly TokenStamp[];
}

/** How the context reads a dependency's tokens: the call's namespace and the client's records. */
export type DependOn = (dependencies: readonly unknown[]) => Promise<AddedDependencies>;

/** What the factory decided, read by the write after it returned. */
export class FactoryDecisions {
  lifetimeSeconds: number | undefined;
  graceSeconds: number | undefined;
  skipped = false;
  readonly added: Array<Promise<AddedDependencies>> = [];

  context<T>(stale: T | undefined, signal: AbortSignal, dependOn: DependOn): FactoryContext<T> {
    return {
      stale,
      signal,
      setOptions: ({ lifetime, grace }) => {
        if (lifetime !== undefined) this.lifetimeSeconds = seconds('lifetime', lifetime);
        if (grace !== undefined) this.graceSeconds = seconds('grace', grace);
      },
      skip: () => {
        this.skipped = true;
      },
      dependOn: (...dependencies) => {
        const added = dependOn(dependencies);
        this.added.push(added);
        // The factory awaits it; a failure also reaches the write, which then stores nothing.
        return added.then(() => undefined);
      },
    };
  }

  /** Every dependency the factory added, once their tokens are in. */
  async dependencies(): Promise<AddedDependencies[]> {
    return Promise.all(this.added);
  }
}
