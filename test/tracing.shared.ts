/**
 * The diagnostics_channel contract: every public operation on `lovely-memcached:<operation>` with its context
 * (never a value), `hit` / `stale` on reads, each request to a server on `lovely-memcached:command`, server
 * events on `lovely-memcached:server`. Run over the memory transport and a real memcached.
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { afterEach, describe, expect, it } from 'vitest';

interface Seen {
  event: string;
  context: Record<string, unknown>;
}

/** Subscribes to a tracing channel, recording a copy of the context at each event. */
function record(name: string): { seen: Seen[]; stop(): void } {
  const seen: Seen[] = [];
  const handler = (event: string) => (message: unknown) =>
    seen.push({ event, context: { ...(message as Record<string, unknown>) } });
  const handlers = {
    start: handler('start'),
    end: handler('end'),
    asyncStart: handler('asyncStart'),
    asyncEnd: handler('asyncEnd'),
    error: handler('error'),
  };
  const traced = tracingChannel(name);
  traced.subscribe(handlers);
  return { seen, stop: () => traced.unsubscribe(handlers) };
}

export function describeTracing(
  name: string,
  setup: () => Promise<{ transport: TransportFactory; servers: string[]; teardown(): Promise<void> }>,
): void {
  describe(`tracing channels over ${name}`, () => {
    const stops: Array<() => void> = [];
    afterEach(() => {
      for (const stop of stops.splice(0)) stop();
    });
    const listen = (channelName: string) => {
      const recorded = record(channelName);
      stops.push(recorded.stop);
      return recorded.seen;
    };

    it('publishes each operation with its context, hit on reads, and never a value', async () => {
      const env = await setup();
      const client = new MemcachedClient({
        transport: env.transport,
        servers: env.servers,
        defaultNS: 'traced',
      });
      const queries = listen('lovely-memcached:query');
      const sets = listen('lovely-memcached:set');
      const invalidations = listen('lovely-memcached:invalidate');
      const secret = 'the value must never be published';
      const memcachedKey = await client.set('page', secret, { dependencies: ['d'] });
      await client.query('page');
      await client.query('missing');
      await client.invalidate(undefined, { dependencies: ['d'] });

      expect(sets.map((s) => s.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
      expect(sets[0]?.context).toMatchObject({ operation: 'set', key: 'page', ns: 'traced', memcachedKey });
      const ends = queries.filter((q) => q.event === 'asyncEnd').map((q) => q.context);
      expect(ends).toEqual([
        expect.objectContaining({ operation: 'query', key: 'page', hit: true, memcachedKey }),
        expect.objectContaining({ operation: 'query', key: 'missing', hit: false }),
      ]);
      expect(invalidations[0]?.context).toMatchObject({ operation: 'invalidate', ns: 'traced' });
      expect(JSON.stringify([...queries, ...sets])).not.toContain(secret);
      await client.close();
      await env.teardown();
    });

    it('marks getOrSet hits, misses and stale answers, and traces the factory once', async () => {
      const env = await setup();
      let offset = 0;
      const client = new MemcachedClient({
        transport: env.transport,
        servers: env.servers,
        now: () => Date.now() + offset,
      });
      const reads = listen('lovely-memcached:getOrSet');
      const factories = listen('lovely-memcached:factory');
      await client.getOrSet('k', () => 1, { lifetime: 10, grace: 60 });
      await client.getOrSet('k', () => 2, { lifetime: 10, grace: 60, earlyRefresh: 0 });
      offset = 11_000;
      await client.getOrSet('k', () => 3, { lifetime: 10, grace: 60 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const ends = reads.filter((r) => r.event === 'asyncEnd').map((r) => r.context);
      expect(ends.map(({ hit, stale }) => ({ hit, stale }))).toEqual([
        { hit: false, stale: false },
        { hit: true, stale: false },
        { hit: true, stale: true },
      ]);
      expect(factories.filter((f) => f.event === 'start')).toHaveLength(2); // the cold fill and the refresh
      await client.close();
      await env.teardown();
    });

    it('publishes every request to a server on lovely-memcached:command', async () => {
      const env = await setup();
      const client = new MemcachedClient({ transport: env.transport, servers: env.servers });
      const commands = listen('lovely-memcached:command');
      await client.set('a', 1);
      await Promise.all([client.query('a'), client.query('b')]);
      await client.getStatistics();
      const started = commands.filter((c) => c.event === 'start').map((c) => c.context);
      expect(started).toEqual([
        { command: 'set', server: env.servers[0], keys: 1 },
        { command: 'getMulti', server: env.servers[0], keys: 2 },
        { command: 'stats', server: env.servers[0], keys: 0 },
      ]);
      await client.close();
      await env.teardown();
    });

    it('creates no context when nobody subscribes', async () => {
      const env = await setup();
      const client = new MemcachedClient({ transport: env.transport, servers: env.servers });
      expect(tracingChannel('lovely-memcached:query').hasSubscribers).toBe(false);
      expect(channel('lovely-memcached:server').hasSubscribers).toBe(false);
      await expect(client.query('nothing')).resolves.toBeUndefined();
      await client.close();
      await env.teardown();
    });
  });
}
