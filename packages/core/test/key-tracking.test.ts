import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';

const servers = ['127.0.0.1:11211', '127.0.0.1:11212'];
const sorted = (keys: unknown[]) => [...keys].sort((a, b) => String(a).localeCompare(String(b)));

function clients(n: number, memory = memoryTransport()) {
  return Array.from(
    { length: n },
    () => new MemcachedClient({ transport: memory, servers, trackKeys: true }),
  );
}

describe('key tracking', () => {
  it('returns original keys of every type, as given', async () => {
    const [a] = clients(1);
    const keys = [1, '1', true, ['x', 2], { b: 1, a: 'z' }];
    for (const key of keys) await a?.set(key, 'v');
    expect(await a?.keys()).toHaveLength(5);
    expect(await a?.keys()).toEqual(expect.arrayContaining(keys));
  });

  it('sees the keys of every tracking client; non-tracking clients record nothing', async () => {
    const memory = memoryTransport();
    const [a, b] = clients(2, memory);
    const quiet = new MemcachedClient({ transport: memory, servers });
    await Promise.all([a?.set('from-a', 1), b?.set('from-b', 2), quiet.set('untracked', 3)]);
    expect(sorted((await a?.keys()) ?? [])).toEqual(['from-a', 'from-b']);
    expect(sorted((await b?.keys()) ?? [])).toEqual(['from-a', 'from-b']);
  });

  it('tracks raw keys under their namespace', async () => {
    const [a] = clients(1);
    await a?.set('raw-key', 'v', { raw: true, ns: 'NS_' });
    await a?.set('hashed', 'v', { ns: 'NS_' });
    expect(sorted((await a?.keys('NS_')) ?? [])).toEqual(['hashed', 'raw-key']);
    expect(await a?.keys()).toEqual([]);
  });

  it('uses defaultNS when no namespace is given', async () => {
    const memory = memoryTransport();
    const client = new MemcachedClient({ transport: memory, servers, trackKeys: true, defaultNS: 'app' });
    await client.set('k', 'v');
    expect(await client.keys()).toEqual(['k']);
    expect(await client.keys(null)).toEqual([]);
  });

  it('drops flushed keys and starts over after a flush', async () => {
    const [a, b] = clients(2);
    await a?.set('before', 1);
    await a?.invalidateAll();
    expect(await b?.keys()).toEqual([]);
    await a?.set('after', 2);
    expect(await b?.keys()).toEqual(['after']);
  });

  it('counts a key set many times once, and compacts its record', async () => {
    const memory = memoryTransport();
    const [a] = clients(1, memory);
    for (let i = 0; i < 1100; i++) await a?.set(`k${i % 5}`, i);
    expect(sorted((await a?.keys()) ?? [])).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    // 1100 lines of ~80 bytes would be ~88 kB; compaction after 1000 appends keeps the record small.
    const transport = memory(servers);
    const record = await transport.get(`lovely-memcached:tracking:${a?.uid}`);
    expect(record?.value.length).toBeLessThan(120 * 100);
  });

  it('keys() compacts records that are mostly dead', async () => {
    const memory = memoryTransport();
    const [a] = clients(1, memory);
    for (let i = 0; i < 40; i++) await a?.set(`k${i}`, i);
    await Promise.all(Array.from({ length: 35 }, (_, i) => a?.invalidate(`k${i}`)));
    const transport = memory(servers);
    const recordKey = `lovely-memcached:tracking:${a?.uid}`;
    const before = (await transport.get(recordKey))?.value.length ?? 0;
    expect((await a?.keys())?.length).toBe(5);
    const after = (await transport.get(recordKey))?.value.length ?? 0;
    expect(after).toBeLessThan(before / 4);
    expect((await a?.keys())?.length).toBe(5);
  });

  it('keys() while one of two servers is down neither reports nor drops the keys it cannot read (80 runs)', async () => {
    let lost = 0;
    for (let run = 0; run < 40; run++) {
      for (const victim of servers) {
        const memory = memoryTransport();
        const transport = memory(servers);
        const [a, b] = clients(2, memory);
        const stored = new Map<string, string>();
        // Half with a dependency: the token may live on the server that is down while the entry does not.
        for (let i = 0; i < 20; i++) {
          const options = i % 2 === 0 ? {} : { dependencies: [`d${i}`] };
          stored.set(`from-a-${i}`, (await a?.set(`from-a-${i}`, i, options)) as string);
        }
        await b?.set('from-b', 1);
        memory.down(victim);
        const during = new Set(await b?.keys());
        for (const [key, memcachedKey] of stored)
          if (transport.reachable?.(memcachedKey) === false) expect(during.has(key)).toBe(false);
        memory.up(victim);
        const seen = new Set(await b?.keys());
        if ([...stored.keys()].some((key) => !seen.has(key))) lost++;
      }
    }
    expect(lost).toBe(0);
  });

  it("a client's own compaction during an outage keeps the keys on the server it cannot read", async () => {
    for (const victim of servers) {
      const memory = memoryTransport();
      const transport = memory(servers);
      const [a] = clients(1, memory);
      const stored = new Map<string, string>();
      for (let i = 0; i < 20; i++) stored.set(`from-a-${i}`, (await a?.set(`from-a-${i}`, i)) as string);
      const hot = new Map<string, string>();
      for (let i = 0; i < 10; i++) hot.set(`hot-${i}`, (await a?.set(`hot-${i}`, i)) as string);
      memory.down(victim);
      // Only while our own record stays readable: compaction rewrites it.
      if (transport.reachable?.(`lovely-memcached:tracking:${a?.uid}`) === false) {
        memory.up(victim);
        continue;
      }
      const hotKey = [...hot].find(([, memcachedKey]) => transport.reachable?.(memcachedKey))?.[0];
      if (hotKey === undefined) throw new Error('none of the hot keys is on the server that answers');
      // Past the 1000 appends after which a client compacts its own record.
      for (let i = 0; i < 1000; i++) await a?.set(hotKey, i);
      memory.up(victim);
      const seen = new Set(await a?.keys());
      expect([...stored.keys()].filter((key) => !seen.has(key))).toEqual([]);
    }
  });

  it('never loses a key to concurrent writers', async () => {
    const all = clients(6);
    await Promise.all(all.flatMap((c, n) => Array.from({ length: 30 }, (_, i) => c.set(`c${n}-${i}`, i))));
    expect((await all[0]?.keys())?.length).toBe(180);
  });
});
