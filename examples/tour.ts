/**
 * A tour of lovely-memcached: every feature, printing what it does and what came back.
 *
 *   npm run tour                                       # in memory
 *   MEMCACHED_SERVERS=127.0.0.1:11211 npm run tour     # against real memcached (comma-separated host:port)
 *   TOUR_FLUSH=1 MEMCACHED_SERVERS=… npm run tour      # ... and also show invalidateAll(), which flushes them
 *
 * Against a real memcached the tour writes only in its own namespace (random per run) and, when it ends,
 * deletes every key it wrote (own-keys.ts): whatever else the servers hold is left as it was. Flushing, which
 * would take every key of every application with it, is shown in memory, or on the servers only with
 * TOUR_FLUSH=1.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  type InvalidKeyError,
  type KeyTrackingDisabledError,
  type L1Bus,
  MemcachedClient,
  type MemcachedClientOptions,
  type TransportFactory,
} from '@lovely-memcached/core';
import { InvalidateCacheEvent, InvalidationBus, invalidateCache } from '@lovely-memcached/events';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { ownKeys } from './own-keys';

const configured = process.env.MEMCACHED_SERVERS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const real = configured !== undefined && configured.length > 0;
const flushServers = process.env.TOUR_FLUSH === '1';
/** Every key of this run lives here; raw keys start with it. */
const ns = `tour-${randomBytes(3).toString('hex')}:`;

// In memory, time is a dial we can turn; against memcached we really wait.
let clockOffset = 0;
const memory = memoryTransport({ now: () => Date.now() + clockOffset });
const servers = real ? configured : ['127.0.0.1:11211'];
const own = real ? ownKeys(memjsTransport({ timeout: 300 }), servers) : undefined;
const transport: TransportFactory = own?.transport ?? memory;
const elapse = async (ms: number) => {
  if (real) await new Promise((resolve) => setTimeout(resolve, ms));
  else clockOffset += ms;
};

/**
 * Process warnings are shown in the tour's output, where they belong, not printed by Node to stderr whenever
 * they come: a warning is the library telling you something (the outage below shows one).
 */
const warnings: string[] = [];
process.removeAllListeners('warning');
process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`));
const printWarnings = () => {
  for (const warning of warnings.splice(0)) console.log(`  (process warning) ${warning}`);
};

const show = (value: unknown) =>
  inspect(value, { depth: 4, breakLength: Number.POSITIVE_INFINITY, colors: false });
const step = (title: string) => {
  printWarnings();
  console.log(`\n== ${title}`);
};
const say = (code: string, ...result: unknown[]) =>
  console.log(`  ${code}${result.length > 0 ? `\n    → ${show(result[0])}` : ''}`);

async function main(): Promise<void> {
  console.log(
    real
      ? `lovely-memcached tour against memcached at ${servers.join(', ')}\n` +
          `(every key in the namespace ${ns}, deleted at the end; nothing else on the servers is touched)`
      : 'lovely-memcached tour, in memory (set MEMCACHED_SERVERS=host:port to use a real memcached)',
  );
  const clients: MemcachedClient[] = [];
  const client = (options: Partial<MemcachedClientOptions>) => {
    const made = new MemcachedClient({ transport, servers, ...options });
    clients.push(made);
    return made;
  };
  try {
    await tour(client);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    const cleaned = await own?.deleteOwnKeys();
    if (cleaned) {
      console.log(
        `\nCleaned up: deleted the ${cleaned.created} keys the tour created (entries and their bookkeeping)` +
          (cleaned.shared > 0 ? `; kept the ${cleaned.shared} shared key(s) it only added to.` : '.'),
      );
    }
  }
  printWarnings();
  console.log('\nDone.');
}

async function tour(client: (options: Partial<MemcachedClientOptions>) => MemcachedClient): Promise<void> {
  const cache = client({ defaultNS: ns });
  say(`const cache = new MemcachedClient({ transport, servers, defaultNS: '${ns}' })`);

  step('Hashed keys: any key becomes 32 hex characters (MD5)');
  say("await cache.set('cache_key', 'cached value')", await cache.set('cache_key', 'cached value'));
  say("await cache.query('cache_key')", await cache.query('cache_key'));
  say(
    "await cache.set({ user: 42, page: 'about' }, { title: 'About', when: new Date(0), tags: new Set(['a']) })",
    await cache.set({ user: 42, page: 'about' }, { title: 'About', when: new Date(0), tags: new Set(['a']) }),
  );
  say(
    "await cache.query({ page: 'about', user: 42 })  // property order does not matter; a Date and a Set come back",
    await cache.query({ page: 'about', user: 42 }),
  );
  await cache.set(1, 'number');
  say("await cache.set(1, 'number'); [await cache.query(1), await cache.query('1')]  // 1 and '1' differ", [
    await cache.query(1),
    await cache.query('1'),
  ]);
  say(
    "await cache.query('missing', { default: 'fallback' })",
    await cache.query('missing', { default: 'fallback' }),
  );
  await cache.invalidate('cache_key');
  say("await cache.invalidate('cache_key'); await cache.query('cache_key')", await cache.query('cache_key'));

  step('Raw keys: used as they are (the namespace prepended, no separator added), readable by any client');
  say(
    "await cache.set('greeting', 'hello', { raw: true })",
    await cache.set('greeting', 'hello', { raw: true }),
  );
  say("await cache.query('greeting', { raw: true })", await cache.query('greeting', { raw: true }));
  say(
    "await cache.set('blob', new Uint8Array([1, 2, 3]), { raw: true })",
    await cache.set('blob', new Uint8Array([1, 2, 3]), { raw: true }),
  );
  say("await cache.query('blob', { raw: true })", await cache.query('blob', { raw: true }));
  try {
    await cache.set('has a space', 'v', { raw: true });
  } catch (error) {
    say(
      "await cache.set('has a space', 'v', { raw: true })",
      `${(error as InvalidKeyError).code}: ${(error as Error).message}`,
    );
  }

  step('Namespaces: clients sharing servers without sharing keys');
  const one = client({ defaultNS: `${ns}1` });
  const two = client({ defaultNS: `${ns}2` });
  await one.set('k', 'in namespace 1');
  await two.set('k', 'in namespace 2');
  say(`const one = new MemcachedClient({ ..., defaultNS: '${ns}1' }), two = ... '${ns}2'`);
  say("await one.set('k', 'in namespace 1'); await two.set('k', 'in namespace 2')");
  say(`[await one.query('k'), await two.query('k'), await one.query('k', { ns: '${ns}2' })]`, [
    await one.query('k'),
    await two.query('k'),
    await one.query('k', { ns: `${ns}2` }),
  ]);

  step('Lifetimes: seconds, 0 = forever, fractions round up');
  await cache.set('short', 'lives one second', { lifetime: 1 });
  say(
    "await cache.set('short', ..., { lifetime: 1 }); await cache.query('short')",
    await cache.query('short'),
  );
  await elapse(2100);
  say(
    real
      ? "(2.1 s later) await cache.query('short')"
      : "(the memory clock moved 2.1 s) await cache.query('short')",
    await cache.query('short'),
  );

  step('Key tracking: keys() lists what every tracking client stored');
  try {
    await cache.keys();
  } catch (error) {
    say(
      'await cache.keys()  // without trackKeys',
      `${(error as KeyTrackingDisabledError).code}: ${(error as Error).message}`,
    );
  }
  const tracked = client({ trackKeys: true, defaultNS: `${ns}tracked` });
  const other = client({ trackKeys: true, defaultNS: `${ns}tracked` });
  await tracked.set(1, 'one');
  await other.set(2, 'two');
  await tracked.set(3, 'three', { lifetime: 1 });
  say(
    "two clients with trackKeys: true; await tracked.set(1, 'one'); await other.set(2, 'two'); " +
      "await tracked.set(3, 'three', { lifetime: 1 }); await other.keys()",
    await other.keys(),
  );
  await elapse(2100);
  await tracked.invalidate(1);
  say(
    `(${real ? '2.1 s later' : 'the memory clock moved 2.1 s'}: 3 expired) await tracked.invalidate(1); await tracked.keys()`,
    await tracked.keys(),
  );

  step('Dependencies: invalidate everything tied to a record');
  say(
    "await cache.set('page:/users/42', '<h1>Ada</h1>', { dependencies: ['user:42'] })",
    await cache.set('page:/users/42', '<h1>Ada</h1>', { dependencies: ['user:42'] }),
  );
  say(
    "await cache.set('page:/team', '<li>Ada</li><li>Alan</li>', { dependencies: ['user:42', 'user:7'] })",
    await cache.set('page:/team', '<li>Ada</li><li>Alan</li>', { dependencies: ['user:42', 'user:7'] }),
  );
  say(
    "await cache.set('page:/about', '<p>about</p>')  // no dependency",
    await cache.set('page:/about', '<p>about</p>'),
  );
  say(
    "await cache.dependents('user:42')  // the memcached keys tied to it: /users/42's and /team's",
    await cache.dependents('user:42'),
  );
  await cache.invalidate(undefined, { dependencies: ['user:42'] });
  say(
    "await cache.invalidate(undefined, { dependencies: ['user:42'] }); then query /users/42, /team, /about" +
      '  // both tied to user:42 are gone; /about, tied to nothing, stays',
    [await cache.query('page:/users/42'), await cache.query('page:/team'), await cache.query('page:/about')],
  );

  step('Read-through: getOrSet computes once, everywhere, and serves stale within grace');
  let renders = 0;
  const render = async () => {
    renders++;
    await new Promise((resolve) => setTimeout(resolve, 50)); // a slow page
    return `<h1>Ada</h1> (render #${renders})`;
  };
  const readThrough = { lifetime: 1, grace: 60, dependencies: ['user:42'] };
  say(
    "new Set(await Promise.all(10 × cache.getOrSet('page:/users/42', render, { lifetime: 1, grace: 60, dependencies: ['user:42'] })))  // what ten concurrent callers got",
    new Set(
      await Promise.all(
        Array.from({ length: 10 }, () => cache.getOrSet('page:/users/42', render, readThrough)),
      ),
    ),
  );
  say('renders  // one render for ten callers', renders);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  say(
    "(1.1 s later, past its lifetime) await cache.getOrSet('page:/users/42', render, ...)  // the stale page at once, re-rendered in the background",
    await cache.getOrSet('page:/users/42', render, readThrough),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  say(
    "(100 ms later) await cache.query('page:/users/42')  // the fresh render",
    await cache.query('page:/users/42'),
  );
  await cache.invalidate(undefined, { dependencies: ['user:42'] });
  say(
    "await cache.invalidate(undefined, { dependencies: ['user:42'] }); await cache.getOrSet('page:/users/42', render, ...)  // never served stale: renders again",
    await cache.getOrSet('page:/users/42', render, readThrough),
  );

  step('Read-through, round 2: many keys at once, factories that decide, soft invalidation');
  let queries = 0;
  const usersByIds = async (ids: string[]) => {
    queries++; // one query to the data source for all the missing keys
    return ids.map((id) => (id === 'user:404' ? undefined : `${id} (from the database)`));
  };
  await cache.set('user:1', 'user:1 (cached)');
  say(
    "await cache.getOrSetMany(['user:1', 'user:2', 'user:404'], (missing) => db.usersByIds(missing))  // user:1 from the cache, the two others in one query; user:404 not found: undefined, not cached",
    await cache.getOrSetMany(['user:1', 'user:2', 'user:404'], (missing) => usersByIds(missing)),
  );
  say('queries  // one query for the two missing keys', queries);
  const token = await cache.getOrSet('token', async (ctx) => {
    ctx.setOptions({ lifetime: 1 }); // the factory decides the lifetime...
    ctx.skip(); // ...or that nothing is stored at all
    return 'secret';
  });
  say(
    "await cache.getOrSet('token', async (ctx) => { ctx.setOptions({ lifetime: 1 }); ctx.skip(); return 'secret' }); then query('token')  // returned, not stored",
    [token, await cache.query('token')],
  );
  let version = 1;
  const catalog = { lifetime: 600, grace: 60, dependencies: ['catalog'] };
  const renderCatalog = async () => `catalog v${version}`;
  await cache.getOrSet('page:/catalog', renderCatalog, catalog);
  version = 2;
  await cache.invalidate(undefined, { dependencies: ['catalog'], soft: true });
  say(
    "version = 2; await cache.invalidate(undefined, { dependencies: ['catalog'], soft: true }); then query and getOrSet (grace 60)  // query misses; getOrSet answers the old page at once and refreshes it behind",
    [await cache.query('page:/catalog'), await cache.getOrSet('page:/catalog', renderCatalog, catalog)],
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  say(
    "(50 ms later) await cache.getOrSet('page:/catalog', ...)  // the refreshed page",
    await cache.getOrSet('page:/catalog', renderCatalog, catalog),
  );

  step('Statistics, per server');
  for (const [label, stats] of await cache.getStatistics()) {
    say(label, {
      curr_items: stats.curr_items,
      total_items: stats.total_items,
      get_hits: stats.get_hits,
      get_misses: stats.get_misses,
    });
  }

  step('A server going away and coming back: no throw, no hang');
  const address = servers[0] as string;
  if (real) cache.servers = ['127.0.0.1:1'];
  else memory.down(address);
  say(real ? "cache.servers = ['127.0.0.1:1']  // nothing listens there" : `memory.down('${address}')`);
  const started = performance.now();
  say("await cache.set('during', 'outage')  // null: not stored", await cache.set('during', 'outage'));
  say("await cache.query('page:/about')  // a miss, not an error", await cache.query('page:/about'));
  say(`(both took ${(performance.now() - started).toFixed(1)} ms)`);
  await new Promise((resolve) => setImmediate(resolve)); // a process warning is emitted on the next tick
  if (warnings.length > 0) {
    say(
      '// and a process warning, given once: none of the servers this transport was given has answered since it ' +
        'was made (what a wrong address looks like; a server that was up and went down gives none)',
      warnings.splice(0).join('\n'),
    );
  }
  if (real) cache.servers = servers;
  else memory.up(address);
  say(real ? 'cache.servers = the configured servers again' : `memory.up('${address}')`);
  say("await cache.set('after', 'back')", await cache.set('after', 'back'));
  say("await cache.query('after')", await cache.query('after'));

  step('L1: a near cache in each process, coherent through a bus');
  // Two "processes" sharing the servers, and a bus between them: in production redisBus({ url }) from
  // @lovely-memcached/bus-redis; here the L1Bus interface itself (publish bytes, subscribe, close), in memory.
  const listeners = new Set<(message: Uint8Array) => void>();
  const wire = (): L1Bus => ({
    publish: (message) => {
      for (const listener of listeners) listener(message);
    },
    subscribe: (listener) => {
      listeners.add(listener);
    },
    close: () => listeners.clear(),
  });
  const l1 = { maxBytes: '64mb', maxStale: '250ms' } as const;
  const web1 = client({ defaultNS: `${ns}l1`, l1: { ...l1, bus: wire() } });
  const web2 = client({ defaultNS: `${ns}l1`, l1: { ...l1, bus: wire() } });
  say(
    "const web1 = new MemcachedClient({ transport, servers, l1: { maxBytes: '64mb', maxStale: '250ms', bus: redisBus({ url }) } })  // web2 alike, in another process",
  );
  await web1.set('menu', ['home', 'about'], { dependencies: ['menus'] });
  say(
    "await web1.set('menu', ['home', 'about'], { dependencies: ['menus'] }); await web2.query('menu')  // read from memcached, kept in web2's L1",
    await web2.query('menu'),
  );
  await web2.query('menu');
  say(
    "await web2.query('menu'); web2.l1Stats()  // the second read: no round trip",
    (({ hits, misses, entries }) => ({ hits, misses, entries }))(
      web2.l1Stats() ?? { hits: 0, misses: 0, entries: 0 },
    ),
  );
  await web1.invalidate(undefined, { dependencies: ['menus'] });
  say(
    "await web1.invalidate(undefined, { dependencies: ['menus'] }); [await web1.query('menu'), await web2.query('menu')]  // web1 at once, web2 through the bus (always within maxStale)",
    [await web1.query('menu'), await web2.query('menu')],
  );

  step('Events: invalidate in named clients through a bus');
  const bus = new InvalidationBus();
  const pages = client({ defaultNS: `${ns}pages` });
  const fragments = client({ defaultNS: `${ns}fragments` });
  bus.register('pages', pages).register('fragments', fragments);
  bus.on(invalidateCache);
  bus.onError((error) => console.log(`    → bus error: ${error.message}`)); // what the line below shows
  say("bus.register('pages', pages).register('fragments', fragments); bus.on(invalidateCache)");
  say(
    "bus.onError((error) => console.log('bus error: ' + error.message))  // failures are reported here, never thrown",
  );
  await pages.set('home', 'page', { dependencies: ['product:1'] });
  await fragments.set('teaser', 'fragment', { dependencies: ['product:1'] });
  say(
    "await pages.set('home', 'page', { dependencies: ['product:1'] }); await fragments.set('teaser', 'fragment', { dependencies: ['product:1'] })",
  );
  await bus.notify(new InvalidateCacheEvent({ cacheName: 'pages', dependencies: ['product:1'] }));
  say(
    "await bus.notify(new InvalidateCacheEvent({ cacheName: 'pages', dependencies: ['product:1'] })); " +
      "[await pages.query('home'), await fragments.query('teaser')]  // only the client named 'pages'",
    [await pages.query('home'), await fragments.query('teaser')],
  );
  await bus.notify(new InvalidateCacheEvent({ dependencies: ['product:1'] }));
  say(
    "await bus.notify(new InvalidateCacheEvent({ dependencies: ['product:1'] })); [...the same queries]  // every registered client",
    [await pages.query('home'), await fragments.query('teaser')],
  );
  say(
    "await bus.notify(new InvalidateCacheEvent({ cacheName: 'nope', key: 'x' }))  // no client named 'nope'",
  );
  await bus.notify(new InvalidateCacheEvent({ cacheName: 'nope', key: 'x' }));

  step('Flushing: invalidateAll() empties every server');
  if (real && !flushServers) {
    say(
      'await cache.invalidateAll()  // skipped: it would delete every key of every application on ' +
        `${servers.join(', ')}. Run with TOUR_FLUSH=1 to see it.`,
    );
    return;
  }
  if (real)
    say(`(TOUR_FLUSH=1: flushing ${servers.join(', ')} — every key on them is gone, not just the tour's)`);
  await cache.invalidateAll();
  say(
    real ? 'await cache.invalidateAll()' : 'await cache.invalidateAll()  // in memory: only this store',
    await cache.query('after'),
  );
}

await main();
