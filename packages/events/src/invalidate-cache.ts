import { busErrors } from './bus-errors';
import type { InvalidateCacheEvent } from './invalidate-cache-event';
import type { InvalidatingClient, InvalidationBus } from './invalidation-bus';

/**
 * The stock handler (the seed's `lovely.memcached.event.invalidateCache`): invalidates the event's key and
 * dependencies in the clients registered on the bus that delivered it — all of them, or only `cacheName`.
 * A failing client is reported on the bus and does not keep the others from being invalidated.
 */
export async function invalidateCache(event: InvalidateCacheEvent, bus: InvalidationBus): Promise<void> {
  let targets: Array<[string, InvalidatingClient]>;
  if (event.cacheName === undefined) {
    targets = [...bus.clients()];
  } else {
    const client = bus.clients().get(event.cacheName);
    if (client === undefined) {
      bus.report(busErrors.unknownCache(event, event.cacheName));
      return;
    }
    targets = [[event.cacheName, client]];
  }
  await Promise.all(
    targets.map(async ([name, client]) => {
      try {
        await client.invalidate(event.key, {
          ns: event.ns,
          raw: event.raw,
          dependencies: event.dependencies,
        });
      } catch (error) {
        bus.report(busErrors.invalidateFailed(event, name, error));
      }
    }),
  );
}
