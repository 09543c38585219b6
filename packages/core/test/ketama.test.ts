import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createHashRing } from '../src/ketama';

interface Scenario {
  servers: string[];
  owners: Record<string, number>;
}
const golden = JSON.parse(
  readFileSync(new URL('./fixtures/ketama-golden.json', import.meta.url), 'utf8'),
) as {
  generator: string;
  scenarios: Scenario[];
};

describe('weighted ketama, as libmemcached routes keys', () => {
  it.each(golden.scenarios.map((s) => [s.servers.join(', '), s] as const))(
    'matches libmemcached for %s',
    (_, scenario) => {
      const ring = createHashRing(scenario.servers);
      const keys = Object.keys(scenario.owners);
      expect(keys.length).toBeGreaterThan(300);
      const mismatches = keys.filter((key) => ring.serverFor(key) !== scenario.owners[key]);
      expect(mismatches).toEqual([]);
    },
  );

  it('moves only the removed server’s keys when one of three goes', () => {
    const three = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
    const full = createHashRing(three);
    const without = createHashRing([three[0], three[2]] as string[]);
    const remap = [0, -1, 1];
    let moved = 0;
    for (let i = 0; i < 5000; i++) {
      const key = `k${i}`;
      const owner = full.serverFor(key);
      if (owner === 1) moved++;
      else expect(without.serverFor(key)).toBe(remap[owner]);
    }
    expect(moved).toBeGreaterThan(1000);
    expect(moved).toBeLessThan(2400);
  });

  it('spreads keys roughly evenly at equal weights', () => {
    const ring = createHashRing(['a:1', 'b:1', 'c:1']);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) {
      const owner = ring.serverFor(`key:${i}`);
      counts[owner] = (counts[owner] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(7000);
  });
});
