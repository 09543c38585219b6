/**
 * Wraps a transport so every call waits a random number of event-loop turns before and after it reaches the
 * store: concurrent clients' operations then interleave in many orders, the way network latency shuffles them.
 */
import type { Transport, TransportFactory } from '@lovely-memcached/core';

/** A small seeded PRNG (mulberry32), so a failing interleaving can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function jitter(random: () => number): Promise<void> {
  for (let n = Math.floor(random() * 4); n > 0; n--) await turn();
}

export function interleaving(factory: TransportFactory, random: () => number): TransportFactory {
  return (servers) => {
    const inner = factory(servers);
    const wrap =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        await jitter(random);
        const result = await call(...args);
        await jitter(random);
        return result;
      };
    const transport: Transport = {
      specificationVersion: inner.specificationVersion,
      name: `interleaving(${inner.name})`,
      capabilities: inner.capabilities,
      get: wrap(inner.get.bind(inner)),
      set: wrap(inner.set.bind(inner)),
      add: wrap(inner.add.bind(inner)),
      append: wrap(inner.append.bind(inner)),
      delete: wrap(inner.delete.bind(inner)),
      incr: wrap(inner.incr.bind(inner)),
      touch: wrap(inner.touch.bind(inner)),
      flush: wrap(inner.flush.bind(inner)),
      stats: wrap(inner.stats.bind(inner)),
      close: inner.close.bind(inner),
    };
    if (inner.getMulti) transport.getMulti = wrap(inner.getMulti.bind(inner));
    if (inner.cas) transport.cas = wrap(inner.cas.bind(inner));
    return transport;
  };
}
