/**
 * `invalidateNamespace`: every entry set in the namespace before the call reads as a miss for every client, in a
 * fixed number of round trips, other namespaces untouched; and the same guarantee as dependencies under
 * concurrent writers. Run over the memory transport and a real memcached.
 */
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { describe, expect, it } from 'vitest';

export function describeNamespaceInvalidation(
  name: string,
  setup: () => Promise<{ transport: TransportFactory; servers: string[]; teardown(): Promise<void> }>,
): void {
  describe(`invalidateNamespace over ${name}`, () => {
    it('makes every entry of the namespace a miss for every client, and leaves other namespaces alone', async () => {
      const env = await setup();
      const ns = `ns-${Math.random().toString(36).slice(2)}`;
      const other = `${ns}-other`;
      const [a, b] = [0, 1].map(
        () => new MemcachedClient({ transport: env.transport, servers: env.servers, defaultNS: ns }),
      ) as [MemcachedClient, MemcachedClient];
      await a.set('hashed', 1);
      await a.set('tied', 2, { dependencies: ['d'] });
      await a.set('raw-tied', 'r', { raw: true, dependencies: ['d'] });
      await a.set('raw-plain', 'plain bytes', { raw: true });
      await a.getOrSet('read-through', () => 3, { grace: 600 });
      await a.set('elsewhere', 4, { ns: other });
      await b.invalidateNamespace();
      for (const client of [a, b]) {
        expect(await client.query('hashed')).toBeUndefined();
        expect(await client.query('tied')).toBeUndefined();
        expect(await client.query('raw-tied', { raw: true })).toBeUndefined();
        expect(await client.query('read-through')).toBeUndefined();
        expect(await client.query('elsewhere', { ns: other })).toBe(4);
        // Plain raw bytes are for other clients to read: not ours to stamp (documented).
        expect(await client.query('raw-plain', { raw: true })).toBe('plain bytes');
      }
      await expect(a.getOrSet('read-through', () => 5)).resolves.toBe(5);
      // Writing again works at once for the invalidating client.
      await b.set('hashed', 6);
      expect(await a.query('hashed')).toBe(6);
      await expect(a.invalidateNamespace(null)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
      await Promise.all([a.close(), b.close()]);
      await env.teardown();
    });

    it('holds under concurrent writers: nothing set before the call is served after it', async () => {
      const env = await setup();
      const ns = `race-${Math.random().toString(36).slice(2)}`;
      const clients = Array.from(
        { length: 6 },
        () => new MemcachedClient({ transport: env.transport, servers: env.servers, defaultNS: ns }),
      );
      let clock = 0;
      const completedAt = new Map<number, number>();
      let nextId = 0;
      let writing = true;
      const violations: string[] = [];
      let hitsAfter = 0;
      const writers = clients.slice(0, 4).map(async (client, w) => {
        while (writing) {
          const id = nextId++;
          await client.set(`k${id % 10}`, { id }, { dependencies: id % 3 === 0 ? ['d'] : undefined });
          completedAt.set(id, ++clock);
          // Yield to timers: over the memory transport every await is a microtask and would starve them.
          await new Promise((resolve) => (w === 0 ? setTimeout(resolve, 1) : setImmediate(resolve)));
        }
      });
      for (let round = 0; round < 6; round++) {
        await new Promise((resolve) => setTimeout(resolve, 15));
        // Entries nobody rewrites: set before the call, they must never be served after it.
        const stable = Array.from({ length: 5 }, (_, i) => `stable-${round}-${i}`);
        await Promise.all(stable.map((key, i) => (clients[i % 4] as MemcachedClient).set(key, { id: -1 })));
        const startedAt = ++clock;
        await (clients[4] as MemcachedClient).invalidateNamespace();
        // Right after the call, and again once writers have dropped the namespace token they had reused
        // (writes made with it meanwhile were dead on arrival: lost, never served).
        for (const pause of [0, 200]) {
          await new Promise((resolve) => setTimeout(resolve, pause));
          const reader = clients[5] as MemcachedClient;
          for (const key of stable)
            if ((await reader.query(key)) !== undefined) violations.push(`${key} served`);
          const reads = await Promise.all(
            Array.from({ length: 10 }, (_, i) => reader.query<{ id: number }>(`k${i}`)),
          );
          for (const value of reads) {
            if (value === undefined) continue;
            hitsAfter++;
            const done = completedAt.get(value.id);
            if (done !== undefined && done < startedAt)
              violations.push(`id ${value.id} set at ${done}, invalidation at ${startedAt}`);
          }
        }
      }
      writing = false;
      await Promise.all(writers);
      expect(violations).toEqual([]);
      expect(hitsAfter).toBeGreaterThan(0); // writes after each invalidation are served: the check can fail
      await Promise.all(clients.map((c) => c.close()));
      await env.teardown();
    });
  });
}
