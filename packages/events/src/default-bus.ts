import { InvalidationBus } from './invalidation-bus';

// One shared bus per process, even when both the ESM and the CJS build of this package are loaded.
const DEFAULT_BUS = Symbol.for('lovely-memcached.defaultBus');
const registry = globalThis as typeof globalThis & { [DEFAULT_BUS]?: InvalidationBus };

/** The shared bus, like zope's global component registry. */
export const defaultBus: InvalidationBus = registry[DEFAULT_BUS] ?? new InvalidationBus();
registry[DEFAULT_BUS] = defaultBus;
