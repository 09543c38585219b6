/**
 * One worker: a loop of random operations on one client until the run's end, recording each in the history.
 * Several workers share a client (so in-process flights are joined), several clients a process.
 *
 * When a value's `issuedAt` is taken matters, because the checker blames the library for serving a value
 * issued before an invalidation started:
 * - a factory takes it when it starts, before it reads the database: "computed by a factory that started
 *   before the invalidation" is what the guarantee forbids serving;
 * - a `set` takes it after its database read came back, just before calling `set`. The read may be a round
 *   trip to another process, and a whole invalidation can start and resolve during it; a `set` then issued is
 *   issued after that invalidation, and must be stored and readable ("writes after an invalidation are
 *   stored"). Taking `issuedAt` before that read would blame the library for serving it.
 *
 * Read-through comes in three forms: `getOrSet` with the item's category as a `dependencies` option, `getOrSet`
 * whose factory declares it with `ctx.dependOn` (awaited before the database read, as the API asks), and
 * `getOrSetMany` of a few items of one namespace (dependencies a function of the key), each key's value
 * recorded as a read of that key. A share of the key, category and namespace updates are soft (`soft: true`):
 * each read records its `grace`, each invalidation whether it was soft, and check.ts holds them to the contract.
 */
import type { FactoryContext, MemcachedClient } from '@lovely-memcached/core';
import { nowUs, sleep } from './clock';
import {
  type Actor,
  type CachedValue,
  errorText,
  type HistoryEvent,
  isCachedValue,
  type ReadEvent,
  type ReadOp,
} from './history';
import { coveredKeys, describeUpdate, type Item, type Keyspace, type Update } from './keyspace';
import type { OracleClient } from './oracle';
import type { Random } from './random';

export interface WorkerSetup {
  actor: Actor;
  client: MemcachedClient;
  oracle: OracleClient;
  keyspace: Keyspace;
  random: Random;
  /** The loop stops starting operations at this time (µs, clock.ts). */
  untilUs: number;
  history: HistoryEvent[];
  /**
   * No invalidation runs while a `getOrSet` or a `set` is in flight (a lock in the oracle), and nothing runs in
   * the background (no grace, no early refresh): the races the guarantee is about cannot happen, so a correct
   * checker must find nothing, whatever the library does about them.
   */
  sanity: boolean;
  /** `invalidateAll` is a `flush_all`, which a proxy cannot forward: left out there. */
  allowInvalidateAll: boolean;
}

/** Share of each operation: mostly reads, a fifth updates. */
const GET_OR_SET = 0.37;
const GET_OR_SET_MANY = 0.08;
const QUERY = 0.25;
const SET = 0.1;
/** Of the getOrSet calls: those whose factory declares the category with `ctx.dependOn`. */
const DEPEND_ON = 0.5;
/** Keys of one getOrSetMany call, all of one namespace (a namespace holds 6 items). */
const MANY_KEYS = [2, 4] as const;
/** Of the updates: mostly one key or a category, some a namespace, rarely everything. */
const KEY_UPDATE = 0.55;
const CATEGORY_UPDATE = 0.32;
const NAMESPACE_UPDATE = 0.1;
/** Of the key, category and namespace updates: those made with `soft: true`. */
const SOFT = 0.4;
/**
 * A read-through call's grace, seconds: none, shorter than many a refresh takes (so calls come after the grace
 * of a soft invalidation has run out while its entry is still there: check.ts holds them to it), or long.
 */
const GRACES = [0, 0.03, 2] as const;
const MAX_FACTORY_MS = 30;
/** A short pause between operations keeps histories a readable size and shuffles the interleavings. */
const MAX_PAUSE_MS = 2;

export async function runWorker(setup: WorkerSetup): Promise<void> {
  const { random, untilUs } = setup;
  let sequence = 0;
  const nextOrigin = (kind: 'f' | 's') => `${setup.actor.worker}/${kind}${sequence++}`;
  while (nowUs() < untilUs) {
    const roll = random.next();
    if (roll < GET_OR_SET) await readThrough(setup, nextOrigin);
    else if (roll < GET_OR_SET + GET_OR_SET_MANY) await readThroughMany(setup, nextOrigin);
    else if (roll < GET_OR_SET + GET_OR_SET_MANY + QUERY) await query(setup);
    else if (roll < GET_OR_SET + GET_OR_SET_MANY + QUERY + SET) await write(setup, nextOrigin('s'));
    else await update(setup, pickUpdate(setup));
    const pause = random.int(0, MAX_PAUSE_MS);
    // Even without a pause, yield to timers and I/O: the memory transport answers in microtasks only.
    await (pause > 0 ? sleep(pause) : new Promise<void>((resolve) => setImmediate(resolve)));
  }
}

async function readThrough(setup: WorkerSetup, nextOrigin: (kind: 'f') => string): Promise<void> {
  const { actor, client, oracle, random, history, sanity } = setup;
  const item = random.pick(setup.keyspace.items);
  const lifetime = random.int(1, 2);
  const grace = sanity ? 0 : random.pick(GRACES);
  const factoryMs = random.int(0, MAX_FACTORY_MS);
  const viaContext = random.next() < DEPEND_ON;
  // This call's factory also runs for refreshes this call starts in the background: all its origins count.
  const mine = new Set<string>();
  const factory = async (context: FactoryContext<CachedValue>): Promise<CachedValue> => {
    const origin = nextOrigin('f');
    mine.add(origin);
    const issuedAt = nowUs();
    // The dependency's token is read now: before the database read it protects.
    if (viaContext) await context.dependOn(item.category);
    const v = await oracle.read(item.key);
    await sleep(factoryMs);
    const value = { key: item.key, v, issuedAt, origin };
    history.push({ type: 'write', via: 'factory', ...actor, ...value, ns: item.ns, end: nowUs() });
    return value;
  };
  if (sanity) await oracle.lock('shared');
  const start = nowUs();
  try {
    const got = await client.getOrSet(item.key, factory, {
      ns: item.ns,
      ...(viaContext ? {} : { dependencies: [item.category] }),
      lifetime,
      grace,
      ...readThroughSettings(sanity),
    });
    history.push({
      ...readRecord(actor, 'getOrSet', item, start, got),
      computedHere: isCachedValue(got) && mine.has(got.origin),
      grace,
    });
  } catch (error) {
    history.push({ ...failedRead(actor, 'getOrSet', item, start, error), grace });
  } finally {
    if (sanity) await oracle.unlock('shared');
  }
}

/**
 * Sanity mode serialises updates behind reads-through: a caller waiting the default 5 s for a lease holder whose
 * write came out dead would stall the whole run, not just itself.
 */
function readThroughSettings(sanity: boolean) {
  return sanity ? { earlyRefresh: 0, lockTimeout: 250 } : {};
}

/**
 * `getOrSetMany` of 2–4 distinct items of one namespace: one factory call for the missing ones, each value with
 * its own origin (and write record), issued when the factory started; each key's answer a read of that key.
 */
async function readThroughMany(setup: WorkerSetup, nextOrigin: (kind: 'f') => string): Promise<void> {
  const { actor, client, oracle, random, history, sanity, keyspace } = setup;
  const ns = random.pick(keyspace.namespaces);
  const pool = keyspace.items.filter((item) => item.ns === ns);
  const items: Item[] = [];
  for (let count = random.int(...MANY_KEYS); items.length < count; ) {
    const item = pool.splice(random.int(0, pool.length - 1), 1)[0] as Item;
    items.push(item);
  }
  const lifetime = random.int(1, 2);
  const grace = sanity ? 0 : random.pick(GRACES);
  const factoryMs = random.int(0, MAX_FACTORY_MS);
  const mine = new Set<string>();
  const factory = async (missing: string[]): Promise<CachedValue[]> => {
    const issuedAt = nowUs();
    const origins = missing.map(() => nextOrigin('f'));
    for (const origin of origins) mine.add(origin);
    const versions = await Promise.all(missing.map((key) => oracle.read(key)));
    await sleep(factoryMs);
    const end = nowUs();
    return missing.map((key, i) => {
      const value = { key, v: versions[i] as number, issuedAt, origin: origins[i] as string };
      history.push({ type: 'write', via: 'factory', ...actor, ...value, ns, end });
      return value;
    });
  };
  if (sanity) await oracle.lock('shared');
  const start = nowUs();
  try {
    const got = await client.getOrSetMany(
      items.map((item) => item.key),
      factory,
      {
        ns,
        dependencies: (key) => [keyspace.item(key).category],
        lifetime,
        grace,
        ...readThroughSettings(sanity),
      },
    );
    const end = nowUs();
    items.forEach((item, i) => {
      const value = got[i];
      history.push({
        ...readRecord(actor, 'getOrSetMany', item, start, value, end),
        computedHere: isCachedValue(value) && mine.has(value.origin),
        grace,
      });
    });
  } catch (error) {
    for (const item of items) {
      history.push({ ...failedRead(actor, 'getOrSetMany', item, start, error), grace });
    }
  } finally {
    if (sanity) await oracle.unlock('shared');
  }
}

async function query(setup: WorkerSetup): Promise<void> {
  const { actor, client, random, history } = setup;
  const item = random.pick(setup.keyspace.items);
  const start = nowUs();
  try {
    const got = await client.query(item.key, { ns: item.ns });
    history.push(readRecord(actor, 'query', item, start, got));
  } catch (error) {
    history.push(failedRead(actor, 'query', item, start, error));
  }
}

async function write(setup: WorkerSetup, origin: string): Promise<void> {
  const { actor, client, oracle, random, history, sanity } = setup;
  const item = random.pick(setup.keyspace.items);
  const lifetime = random.int(1, 2);
  if (sanity) await oracle.lock('shared');
  try {
    const v = await oracle.read(item.key);
    // Issued now: see the header for why not before the database read.
    const value: CachedValue = { key: item.key, v, issuedAt: nowUs(), origin };
    const record = { type: 'write', via: 'set', ...actor, ...value, ns: item.ns } as const;
    try {
      await client.set(item.key, value, { ns: item.ns, dependencies: [item.category], lifetime });
      history.push({ ...record, end: nowUs() });
    } catch (error) {
      history.push({ ...record, end: nowUs(), error: errorText(error) });
    }
  } finally {
    if (sanity) await oracle.unlock('shared');
  }
}

function pickUpdate({ random, keyspace, allowInvalidateAll }: WorkerSetup): Update {
  const roll = random.next();
  const item = random.pick(keyspace.items);
  const soft = random.next() < SOFT;
  if (roll < KEY_UPDATE) return { kind: 'key', key: item.key, ns: item.ns, soft };
  if (roll < KEY_UPDATE + CATEGORY_UPDATE) {
    return { kind: 'category', category: item.category, ns: item.ns, soft };
  }
  if (roll < KEY_UPDATE + CATEGORY_UPDATE + NAMESPACE_UPDATE || !allowInvalidateAll) {
    return { kind: 'namespace', ns: item.ns, soft };
  }
  return { kind: 'all' };
}

/** Bump first, then invalidate: a value computed from the old version is then what must not be served. */
async function update(setup: WorkerSetup, change: Update): Promise<void> {
  const { actor, client, oracle, history, sanity, keyspace } = setup;
  if (sanity) await oracle.lock('exclusive');
  try {
    const covered = await oracle.bump(coveredKeys(keyspace, change));
    const record = {
      type: 'invalidation',
      ...actor,
      kind: change.kind,
      target: describeUpdate(change),
      covered,
      ...(change.kind !== 'all' && change.soft ? { soft: true } : {}),
    };
    const start = nowUs();
    try {
      await invalidate(client, change);
      history.push({ ...record, type: 'invalidation', start, end: nowUs() });
    } catch (error) {
      history.push({ ...record, type: 'invalidation', start, end: nowUs(), error: errorText(error) });
    }
  } finally {
    if (sanity) await oracle.unlock('exclusive');
  }
}

function invalidate(client: MemcachedClient, change: Update): Promise<void> {
  switch (change.kind) {
    case 'key':
      return client.invalidate(change.key, { ns: change.ns, soft: change.soft });
    case 'category':
      return client.invalidate(undefined, {
        ns: change.ns,
        dependencies: [change.category],
        soft: change.soft,
      });
    case 'namespace':
      return client.invalidateNamespace(change.ns, { soft: change.soft });
    case 'all':
      return client.invalidateAll();
  }
}

function readRecord(
  actor: Actor,
  op: ReadOp,
  item: Item,
  start: number,
  got: unknown,
  end = nowUs(),
): ReadEvent {
  const base = { type: 'read', op, ...actor, key: item.key, ns: item.ns, start, end } as const;
  if (got === undefined) return { ...base, result: null };
  if (!isCachedValue(got)) return { ...base, result: null, damaged: safeText(got) };
  return { ...base, result: got };
}

function failedRead(actor: Actor, op: ReadOp, item: Item, start: number, error: unknown): ReadEvent {
  return {
    type: 'read',
    op,
    ...actor,
    key: item.key,
    ns: item.ns,
    start,
    end: nowUs(),
    result: null,
    error: errorText(error),
  } as const;
}

function safeText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
