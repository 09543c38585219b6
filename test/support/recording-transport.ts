/** Wraps a transport factory and records every call, so tests can assert what reached the store. */
import type { Transport, TransportFactory } from '@lovely-memcached/core';

export interface Recorded {
  method: string;
  keys: string[];
}

export function recording(factory: TransportFactory): { factory: TransportFactory; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const wrapped: TransportFactory = (servers) => {
    const inner = factory(servers);
    return new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const [first] = args;
          const keys = Array.isArray(first) ? (first as string[]) : typeof first === 'string' ? [first] : [];
          calls.push({ method: String(property), keys });
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Transport;
  };
  return { factory: wrapped, calls };
}
