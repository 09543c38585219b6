/**
 * L1 (issue 24) over the memory transport and the in-process bus: options, hits without a round trip, the two
 * bounds (bytes, maxStale), shared reads, and coherence with this process's and other processes' invalidations.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { MemcachedClient, type OperationContext } from '@lovely-memcached/core';
import { inProcessBus } from '@lovely-memcached/testing';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { captureWarnings } from './support/expected-warnings';
import { recording } from './support/recording-transport';

const servers = ['127.0.0.1:11211'];
const open: MemcachedClient[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

/** A clock the test moves by hand. */
function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function client(options: ConstructorParameters<typeof MemcachedClient>[0]): MemcachedClient {
  const made = new MemcachedClient(options);
  open.push(made);
  return made;
}

/** Two processes' clients over one store: `a` with a recording transport, both with L1 and the given bus. */
function pair(withBus: boolean, maxStale = 1000) {
  const time = clock();
  const store = memoryTransport();
  const rec = recording(store);
  const bus = inProcessBus();
  const l1 = (busFor: boolean) => ({
    maxBytes: '1mb' as const,
    maxStale,
    ...(busFor ? { bus: bus.connect() } : {}),
  });
  const a = client({ transport: rec.factory, servers, now: time.now, l1: l1(withBus) });
  const b = client({ transport: store, servers, now: time.now, l1: l1(withBus) });
  const reads = (key?: string) =>
    rec.calls.filter((call) => call.method === 'get' && (key === undefined || call.keys.includes(key)))
      .length;
  return { a, b, time, bus, reads, rec };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the l1 option', () => {
  it.each([
    [{ maxBytes: 0, maxStale: 100 }, 'l1.maxBytes'],
    [{ maxBytes: -5, maxStale: 100 }, 'l1.maxBytes'],
    [{ maxBytes: Number.NaN, maxStale: 100 }, 'l1.maxBytes'],
    [{ maxBytes: '64 megabytes', maxStale: 100 }, 'l1.maxBytes'],
    [{ maxBytes: '0kb', maxStale: 100 }, 'l1.maxBytes'],
    [{ maxStale: 100 }, 'l1.maxBytes'],
    [{ maxBytes: '1mb', maxStale: -1 }, 'l1.maxStale'],
    [{ maxBytes: '1mb', maxStale: Number.NaN }, 'l1.maxStale'],
    [{ maxBytes: '1mb', maxStale: '5 minutes' }, 'l1.maxStale'],
    [{ maxBytes: '1mb', maxStale: '250' }, 'l1.maxStale'],
    [{ maxBytes: '1mb' }, 'l1.maxStale'],
    [{ maxBytes: '1mb', maxStale: 10, bus: {} }, 'l1.bus'],
    [{ maxBytes: '1mb', maxStale: 10, maxSize: 3 }, 'maxSize'],
  ])('refuses %j naming %s', (l1, named) => {
    expect(() => new MemcachedClient({ transport: memoryTransport(), l1: l1 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(named) }),
    );
  });

  it('takes sizes as bytes or strings, maxStale as milliseconds or a duration string', () => {
    for (const l1 of [
      { maxBytes: 1024, maxStale: 250 },
      { maxBytes: '512kb', maxStale: '250ms' },
      { maxBytes: '64mb', maxStale: '2s' },
      { maxBytes: '1.5MB', maxStale: 0 },
    ] as const) {
      expect(client({ transport: memoryTransport(), l1 }).l1Stats()).toMatchObject({ hits: 0, bytes: 0 });
    }
    expect(client({ transport: memoryTransport() }).l1Stats()).toBeUndefined();
  });
});

describe('L1 hits', () => {
  it('answers query and getOrSet without a round trip while the copy is younger than maxStale', async () => {
    const { a, time, reads } = pair(false, 500);
    await a.set('k', { v: 1 });
    expect(await a.query('k')).toEqual({ v: 1 });
    const before = reads();
    expect(await a.query('k')).toEqual({ v: 1 });
    let calls = 0;
    expect(await a.getOrSet('k', async () => ++calls)).toEqual({ v: 1 });
    expect(reads()).toBe(before);
    expect(calls).toBe(0);
    time.advance(499);
    await a.query('k');
    expect(reads()).toBe(before);
    time.advance(1);
    await a.query('k');
    expect(reads()).toBe(before + 1);
    expect(a.l1Stats()).toMatchObject({ hits: 3, misses: 2 });
  });

  it('skips L1 for query(key, { l1: false })', async () => {
    const { a, reads } = pair(false);
    await a.set('k', 'v');
    await a.query('k');
    const before = reads();
    expect(await a.query('k', { l1: false })).toBe('v');
    expect(reads()).toBe(before + 1);
  });

  it('shares one memcached read between concurrent misses of one key', async () => {
    const { a, b, reads } = pair(false);
    await b.set('k', 'v');
    const before = reads('' as never);
    const answers = await Promise.all(Array.from({ length: 20 }, () => a.query('k')));
    expect(answers).toEqual(Array(20).fill('v'));
    // One read of the entry (and the namespace-free entry has no token reads).
    expect(reads() - before).toBe(1);
  });

  it('keeps getOrSet working: a computed value is served, then hit from L1', async () => {
    const { a, reads } = pair(false);
    let calls = 0;
    expect(await a.getOrSet('g', async () => ++calls, { lifetime: 60 })).toBe(1);
    expect(await a.getOrSet('g', async () => ++calls, { lifetime: 60 })).toBe(1);
    const before = reads();
    expect(await a.getOrSet('g', async () => ++calls, { lifetime: 60 })).toBe(1);
    expect(reads()).toBe(before);
    expect(calls).toBe(1);
  });

  it('answers getOrSetMany keys from L1, and calls the factory with only the others', async () => {
    const { a, reads } = pair(false);
    await a.set('m1', 'one');
    await a.set('m2', 'two');
    await a.getOrSet('m1', async () => 'unused');
    await a.getOrSet('m2', async () => 'unused');
    const before = reads();
    const asked: string[][] = [];
    const values = await a.getOrSetMany(['m1', 'm3', 'm2'], async (missing) => {
      asked.push([...missing]);
      return missing.map((key) => `computed ${key}`);
    });
    expect(values).toEqual(['one', 'computed m3', 'two']);
    expect(asked).toEqual([['m3']]);
    expect(reads()).toBeGreaterThan(before); // m3 went to memcached
  });

  it('serves a read-through entry past its lifetime from L1 never: getOrSet refreshes it', async () => {
    const { a, time } = pair(false, 60_000);
    let calls = 0;
    expect(await a.getOrSet('g', async () => ++calls, { lifetime: 1 })).toBe(1);
    expect(await a.getOrSet('g', async () => ++calls, { lifetime: 1 })).toBe(1);
    time.advance(1500);
    expect(await a.getOrSet('g', async () => ++calls, { lifetime: 1 })).toBe(2);
    expect(await a.query('g')).toBe(2);
  });

  it('stays under maxBytes, evicting the least recently used copies', async () => {
    const time = clock();
    const transport = memoryTransport();
    const c = client({ transport, servers, now: time.now, l1: { maxBytes: '20kb', maxStale: '1m' } });
    const value = 'x'.repeat(1024);
    for (let i = 0; i < 100; i++) await c.set(`k${i}`, `${value}${i}`);
    for (let i = 0; i < 100; i++) expect(await c.query(`k${i}`)).toBe(`${value}${i}`);
    const stats = c.l1Stats();
    expect(stats?.bytes).toBeLessThanOrEqual(20 * 1024);
    expect(stats?.entries).toBeGreaterThan(5);
    expect(stats?.evictions).toBeGreaterThan(50);
    // The most recent ones are still there.
    const hits = stats?.hits ?? 0;
    expect(await c.query('k99')).toBe(`${value}99`);
    expect(c.l1Stats()?.hits).toBe(hits + 1);
  });

  it('puts L1 on the query tracing context', async () => {
    const { a } = pair(false);
    await a.set('k', 'v');
    const seen: Array<OperationContext['l1']> = [];
    const onEnd = (message: unknown) => seen.push((message as OperationContext).l1);
    subscribe('tracing:lovely-memcached:query:asyncEnd', onEnd);
    try {
      await a.query('k');
      await a.query('k');
    } finally {
      unsubscribe('tracing:lovely-memcached:query:asyncEnd', onEnd);
    }
    expect(seen[0]).toMatchObject({ hit: false });
    expect(seen[1]).toMatchObject({ hit: true, entries: 1 });
    expect(seen[1]?.bytes).toBeGreaterThan(0);
  });
});

describe('L1 coherence in the process that writes or invalidates', () => {
  it('never reads back what it overwrote or invalidated', async () => {
    const { a } = pair(false, 60_000);
    await a.set('k', 1, { dependencies: ['d'], ns: 'n' });
    await a.set('j', 1, { ns: 'n' });
    await a.set('plain', 1);
    for (const key of ['k', 'j']) expect(await a.query(key, { ns: 'n' })).toBe(1);
    expect(await a.query('plain')).toBe(1);
    await a.set('plain', 2);
    expect(await a.query('plain')).toBe(2);
    await a.invalidate('plain');
    expect(await a.query('plain')).toBeUndefined();
    await a.invalidate(undefined, { dependencies: ['d'], ns: 'n' });
    expect(await a.query('k', { ns: 'n' })).toBeUndefined();
    expect(await a.query('j', { ns: 'n' })).toBe(1);
    await a.invalidateNamespace('n');
    expect(await a.query('j', { ns: 'n' })).toBeUndefined();
    await a.set('plain', 3);
    expect(await a.query('plain')).toBe(3);
    await a.invalidateAll();
    expect(await a.query('plain')).toBeUndefined();
  });

  it('does not keep a read that was in flight during its own invalidation, nor let a later read join it', async () => {
    const { a } = pair(false, 60_000);
    await a.set('k', 'old');
    const early = a.query('k');
    await a.invalidate('k');
    expect(await a.query('k')).toBeUndefined();
    await early;
    expect(await a.query('k')).toBeUndefined();
  });

  it('drops soft-invalidated copies too', async () => {
    const { a } = pair(false, 60_000);
    await a.set('k', 1, { dependencies: ['d'] });
    expect(await a.query('k')).toBe(1);
    await a.invalidate(undefined, { dependencies: ['d'], soft: true });
    expect(await a.query('k')).toBeUndefined();
  });
});

describe("L1 coherence with another process's invalidations", () => {
  const cases = [
    ['a key', (b: MemcachedClient) => b.invalidate('k', { ns: 'n' })],
    ['a dependency', (b: MemcachedClient) => b.invalidate(undefined, { dependencies: ['d'], ns: 'n' })],
    ['a namespace', (b: MemcachedClient) => b.invalidateNamespace('n')],
    ['everything', (b: MemcachedClient) => b.invalidateAll()],
    ['a new value', (b: MemcachedClient) => b.set('k', 'new', { ns: 'n' })],
  ] as const;

  it.each(cases)('without a bus: %s is honoured once the copy is maxStale old', async (_, invalidate) => {
    const { a, b, time } = pair(false, 1000);
    await b.set('k', 'old', { ns: 'n', dependencies: ['d'] });
    expect(await a.query('k', { ns: 'n' })).toBe('old');
    time.advance(400);
    await invalidate(b);
    expect(await a.query('k', { ns: 'n' })).toBe('old'); // within maxStale: allowed
    time.advance(600);
    expect(await a.query('k', { ns: 'n' })).not.toBe('old');
  });

  it.each(cases)('with a bus: %s reaches the other L1 at once', async (_, invalidate) => {
    const { a, b } = pair(true, 60_000);
    await b.set('k', 'old', { ns: 'n', dependencies: ['d'] });
    expect(await a.query('k', { ns: 'n' })).toBe('old');
    await invalidate(b);
    await tick();
    expect(await a.query('k', { ns: 'n' })).not.toBe('old');
    expect(a.l1Stats()?.busMessages).toBeGreaterThan(0);
  });

  it('with the bus down, still never serves a copy older than maxStale', async () => {
    const { a, b, time, bus } = pair(true, 1000);
    await b.set('k', 'old', { ns: 'n' });
    expect(await a.query('k', { ns: 'n' })).toBe('old');
    bus.down();
    await b.set('k', 'new', { ns: 'n' });
    await tick();
    expect(bus.lost).toBeGreaterThan(0);
    time.advance(1000);
    expect(await a.query('k', { ns: 'n' })).toBe('new');
  });

  it('ignores and counts messages that are not its own kind, without a crash', async () => {
    const { a, b, bus } = pair(true, 60_000);
    await b.set('k', 'v');
    expect(await a.query('k')).toBe('v');
    for (const junk of [
      new Uint8Array(),
      new TextEncoder().encode('hello'),
      Uint8Array.from([0x4c, 0x31, 9, 1]),
      Uint8Array.from([0x4c, 0x31, 1, 1, ...new Array(16).fill(0), 0, 5, 3, 0x41]),
      Uint8Array.from([0x4c, 0x31, 1, 7, ...new Array(16).fill(0), 0, 0]),
    ]) {
      bus.inject(junk);
    }
    expect(a.l1Stats()?.foreignMessages).toBe(5);
    expect(await a.query('k')).toBe('v');
  });

  it('survives a bus whose publish and subscribe throw or reject', async () => {
    const broken = {
      publish: () => Promise.reject(new Error('down')),
      subscribe: () => {
        throw new Error('no');
      },
      close: () => Promise.reject(new Error('closing')),
    };
    // The broken bus is reported as a process warning, once: expected here.
    const warnings = captureWarnings('LOVELY_MEMCACHED');
    try {
      const c = new MemcachedClient({
        transport: memoryTransport(),
        servers,
        l1: { maxBytes: 10_000, maxStale: 100, bus: broken },
      });
      await c.set('k', 1);
      await c.invalidate('k');
      await tick();
      expect(c.l1Stats()?.busErrors).toBeGreaterThanOrEqual(2);
      await c.close();
    } finally {
      warnings.restore();
    }
  });
});
