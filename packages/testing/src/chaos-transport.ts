/**
 * A transport wrapper that misbehaves on purpose, for fault tests of code above the transport: each call may
 * fail (answer like an unreachable server), be delayed, be dropped (no answer until a delay runs out, then
 * answer like an unreachable server), have its reply's bytes corrupted, or reject outright (a transport bug).
 * Switch faults on and off at run time through `chaos.faults`.
 */
import type { Transport, TransportFactory, TransportItem } from '@lovely-memcached/core';

export interface ChaosFaults {
  /** Share of calls answered as if the server were unreachable (0..1). @default 0 */
  fail?: number;
  /** Share of calls held for `dropMs` and then answered as unreachable (0..1). @default 0 */
  drop?: number;
  /** How long a dropped call is held, in ms. @default 100 */
  dropMs?: number;
  /** Extra latency added to every call, in ms (a random amount up to this). @default 0 */
  delayMs?: number;
  /** Share of read replies whose value bytes are flipped (0..1). @default 0 */
  corrupt?: number;
  /** Share of calls that reject with an Error, as a buggy transport would (0..1). @default 0 */
  reject?: number;
}

export interface ChaosTransportFactory extends TransportFactory {
  /** The faults in force; assign to change them while tests run. */
  faults: ChaosFaults;
  /** How many calls each fault hit so far. */
  readonly counts: Record<'fail' | 'drop' | 'corrupt' | 'reject' | 'calls', number>;
}

/** What each method answers when its server is unreachable. */
const UNREACHABLE: Record<string, () => unknown> = {
  get: () => undefined,
  getMulti: () => new Map(),
  set: () => 'unavailable',
  add: () => 'unavailable',
  append: () => 'unavailable',
  cas: () => 'unavailable',
  delete: () => false,
  incr: () => undefined,
  touch: () => false,
  flush: () => undefined,
  stats: () => [],
};

function corruptItem(item: TransportItem, random: () => number): TransportItem {
  const value = new Uint8Array(item.value);
  for (let i = 0; i < value.length; i += 1 + Math.floor(random() * 4)) value[i] = (value[i] ?? 0) ^ 0xff;
  return { ...item, value };
}

export function chaosTransport(
  inner: TransportFactory,
  faults: ChaosFaults = {},
  random = Math.random,
): ChaosTransportFactory {
  const counts = { fail: 0, drop: 0, corrupt: 0, reject: 0, calls: 0 };
  const factory = ((servers: readonly string[]): Transport => {
    const transport = inner(servers);
    const wrap = (method: string) => {
      const original = (transport as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[
        method
      ];
      if (original === undefined) return undefined;
      return async (...args: unknown[]): Promise<unknown> => {
        const f = factory.faults;
        counts.calls++;
        if (f.delayMs) await new Promise((resolve) => setTimeout(resolve, random() * (f.delayMs as number)));
        if (f.reject && random() < f.reject) {
          counts.reject++;
          throw new Error(`chaos: ${method} rejected`);
        }
        if (f.fail && random() < f.fail) {
          counts.fail++;
          return UNREACHABLE[method]?.();
        }
        if (f.drop && random() < f.drop) {
          counts.drop++;
          await new Promise((resolve) => setTimeout(resolve, f.dropMs ?? 100));
          return UNREACHABLE[method]?.();
        }
        const result = await original.apply(transport, args);
        if (f.corrupt && random() < f.corrupt) {
          if (method === 'get' && result !== undefined) {
            counts.corrupt++;
            return corruptItem(result as TransportItem, random);
          }
          if (method === 'getMulti') {
            counts.corrupt++;
            const items = result as Map<string, TransportItem>;
            return new Map([...items].map(([key, item]) => [key, corruptItem(item, random)]));
          }
        }
        return result;
      };
    };
    const wrapped: Transport = {
      specificationVersion: transport.specificationVersion,
      name: `chaos(${transport.name})`,
      capabilities: transport.capabilities,
      get: wrap('get') as Transport['get'],
      getMulti: wrap('getMulti') as Transport['getMulti'],
      set: wrap('set') as Transport['set'],
      add: wrap('add') as Transport['add'],
      append: wrap('append') as Transport['append'],
      cas: wrap('cas') as Transport['cas'],
      delete: wrap('delete') as Transport['delete'],
      incr: wrap('incr') as Transport['incr'],
      touch: wrap('touch') as Transport['touch'],
      flush: wrap('flush') as Transport['flush'],
      stats: wrap('stats') as Transport['stats'],
      close: () => transport.close(),
    };
    return wrapped;
  }) as ChaosTransportFactory;
  factory.faults = faults;
  Object.defineProperty(factory, 'counts', { value: counts });
  return factory;
}
