/**
 * Issue 23, items 5, 6 and 9: option names the library does not know are refused with the closest known one,
 * server addresses are checked when the client is made, every duration takes a string with a unit, and error
 * messages show values as they were given (strings quoted, NaN as NaN, long values cut short).
 */
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  assertExptime,
  CacheError,
  closestName,
  describeValue,
  durationIn,
  MemcachedClient,
  type MemcachedClientOptions,
  parseDuration,
} from '../src';
import { thrown } from './support/thrown';

const transport = memoryTransport();

async function rejection(promise: Promise<unknown>): Promise<CacheError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CacheError);
    return error as CacheError;
  }
  throw new Error('did not reject');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('unknown option names are refused, with the closest known name (item 5)', () => {
  it.each([
    ['ttl', 'defaultLifetime'],
    ['expires', 'defaultLifetime'],
    ['sever', 'servers'],
    ['server', 'servers'],
    ['Servers', 'servers'],
    ['defaultLifeTime', 'defaultLifetime'],
    ['namespace', 'defaultNS'],
    ['trackkeys', 'trackKeys'],
  ])('client option `%s` → did you mean `%s`?', (name, suggestion) => {
    const error = thrown(
      () => new MemcachedClient({ transport, [name]: '127.0.0.1:11211' } as MemcachedClientOptions),
    );
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toContain(`unknown option \`${name}\``);
    expect(error.message).toContain(`did you mean \`${suggestion}\``);
    expect(error.context).toMatchObject({ option: name, suggestion });
  });

  it('a name close to none lists the known ones', () => {
    const error = thrown(() => new MemcachedClient({ transport, pool: 4 } as MemcachedClientOptions));
    expect(error.message).toContain('unknown option `pool`');
    expect(error.message).toContain('known options are `transport`, `servers`');
    expect(error.context).toEqual({ option: 'pool' });
  });

  it('call options: set, query, getOrSet, invalidate, dependents', async () => {
    const client = new MemcachedClient({ transport });
    const cases: Array<[Promise<unknown>, string, string]> = [
      [client.set('k', 1, { ttl: 60 } as never), 'ttl', 'lifetime'],
      [client.set('k', 1, { expires: 60 } as never), 'expires', 'lifetime'],
      [client.set('k', 1, { expiry: 60 } as never), 'expiry', 'lifetime'],
      [client.set('k', 1, { tags: ['a'] } as never), 'tags', 'dependencies'],
      [client.query('k', { namespace: 'x' } as never), 'namespace', 'ns'],
      [client.query('k', { defualt: 1 } as never), 'defualt', 'default'],
      [client.getOrSet('k', () => 1, { timout: 50 } as never), 'timout', 'timeout'],
      [client.getOrSet('k', () => 1, { ttl: 50 } as never), 'ttl', 'lifetime'],
      [client.getOrSet('k', () => 1, { lockTimeot: 50 } as never), 'lockTimeot', 'lockTimeout'],
      [client.invalidate('k', { dependecies: ['a'] } as never), 'dependecies', 'dependencies'],
      [client.dependents('k', { namespace: 'x' } as never), 'namespace', 'ns'],
    ];
    for (const [call, name, suggestion] of cases) {
      const error = await rejection(call);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain(`\`${name}\``);
      expect(error.message).toContain(`did you mean \`${suggestion}\``);
    }
    // Nothing was written by the refused set.
    expect(await client.query('k')).toBeUndefined();
    await client.close();
  });

  it('one options object shared by several calls passes each: a name some call takes is no typo', async () => {
    const client = new MemcachedClient({ transport });
    const shared = { ns: 'pages', lifetime: '5m', dependencies: ['user:1'], default: 'none' } as const;
    await client.set('k', 1, shared as never);
    expect(await client.query('k', shared)).toBe(1);
    expect(await client.getOrSet('k', () => 2, shared as never)).toBe(1);
    await client.invalidate('k', shared as never);
    expect(await client.query('k', shared)).toBe('none');
    await client.close();
  });

  it('a lifetime borrowed from a peer is pointed at ours, with its unit', async () => {
    const client = new MemcachedClient({ transport });
    const error = await rejection(client.set('k', 1, { ttl: 60_000 } as never));
    expect(error.message).toContain('did you mean `lifetime` (seconds, or a string with a unit)?');
    await client.close();
  });

  it('an options argument that is not an object is refused, naming what was given', async () => {
    const client = new MemcachedClient({ transport });
    for (const call of [
      client.set('k', 1, 60 as never),
      client.query('k', 'ns' as never),
      client.getOrSet('k', () => 1, null as never),
      client.invalidate('k', [] as never),
    ]) {
      const error = await rejection(call);
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toMatch(/options of \w+\(\) must be an object, got (60|"ns"|null|\[\])/);
    }
    await client.close();
  });

  it('every documented option still passes', async () => {
    const client = new MemcachedClient({
      transport,
      servers: '127.0.0.1:11211',
      defaultLifetime: 60,
      defaultNS: 'site',
      trackKeys: true,
      now: () => Date.now(),
      compression: { threshold: 1024, codec: 'deflate' },
    });
    await client.set('k', 1, { lifetime: 60, ns: 'a', raw: false, dependencies: ['d'] });
    expect(await client.query('k', { ns: 'a', raw: false, default: 0 })).toBe(1);
    expect(
      await client.getOrSet('g', () => 2, {
        lifetime: 60,
        grace: 10,
        dependencies: ['d'],
        ns: 'a',
        raw: false,
        lockTimeout: 100,
        timeout: 10,
        hardTimeout: 1000,
        earlyRefresh: 0,
      }),
    ).toBe(2);
    expect(await client.dependents('d', { ns: 'a' })).toHaveLength(2);
    await client.invalidate('k', { ns: 'a', raw: false, dependencies: ['d'] });
    await client.close();
  });

  it('the suggestion: aliases first, then the same name in other case, then one or two typos', () => {
    const known = { lifetime: true, timeout: true, servers: true, tls: true } as const;
    expect(closestName('ttl', known)).toBe('lifetime'); // not `tls`, two edits away
    expect(closestName('tiemout', known)).toBe('timeout'); // a swap is one edit
    expect(closestName('TIMEOUT', known)).toBe('timeout');
    expect(closestName('tl', known)).toBe('tls');
    expect(closestName('retries', known)).toBeUndefined();
    expect(closestName('lifetimeSeconds', known)).toBe('lifetime'); // a unit added
    expect(closestName('serv', known)).toBe('servers'); // cut short
    expect(closestName('ser', known)).toBeUndefined(); // too short to tell
  });
});

describe('server addresses are checked when the client is made (item 5)', () => {
  it.each([
    ['127.0.0.1:99999', 'port'],
    ['127.0.0.1:0', 'port'],
    ['127.0.0.1:65536', 'port'],
    ['127.0.0.1;11211', 'host'],
    ['cache 1:11211', 'host'],
    ['127.0.0.1:11211:0', 'weight'],
    ['http://cache:11211', 'address'],
    [':11211', 'address'],
  ])('%s is refused (%s)', (server, what) => {
    const error = thrown(() => new MemcachedClient({ transport, servers: [server] }));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toContain(JSON.stringify(server));
    expect(error.message).toContain(what);
    expect(error.context).toMatchObject({ option: 'servers', value: server });
  });

  it('so is one of a comma-separated list, and assigning servers later', () => {
    expect(thrown(() => new MemcachedClient({ transport, servers: 'a:11211,b:99999' })).message).toContain(
      '"b:99999"',
    );
    const client = new MemcachedClient({ transport });
    expect(() => {
      client.servers = ['127.0.0.1:0'];
    }).toThrow(/port/);
    expect(client.servers).toEqual(['127.0.0.1:11211']);
  });

  it.each([
    'localhost',
    'localhost:1',
    '127.0.0.1:65535',
    'cache-1.internal.example:11211:3',
    'my_cache:11211',
    '[::1]:11211',
    '[fe80::1%eth0]:11211',
  ])('%s is accepted', (server) => {
    expect(() => new MemcachedClient({ transport, servers: [server] })).not.toThrow();
  });
});

describe('durations take a string with a unit (item 6)', () => {
  it('parses ms, s, m, h, d and fractions', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('.5s')).toBe(500);
    for (const bad of ['5', '5 minutes', '5min', '-1s', '1e3ms', 's', '', '5M', '1w'])
      expect(parseDuration(bad)).toBeNaN();
    expect(durationIn('s', '90s')).toBe(90);
    expect(durationIn('s', 90)).toBe(90);
    expect(durationIn('ms', '2s')).toBe(2000);
    expect(durationIn('ms', 2)).toBe(2);
  });

  it('defaultLifetime and set lifetimes: seconds when a number, any unit as a string', async () => {
    let now = Date.UTC(2030, 0, 1);
    const memory = memoryTransport({ now: () => now });
    const client = new MemcachedClient({ transport: memory, defaultLifetime: '1h' });
    expect(client.defaultLifetime).toBe(3600);
    await client.set('short', 1, { lifetime: '1500ms' });
    await client.set('minutes', 1, { lifetime: '2m' });
    await client.set('default', 1);
    now += 2500;
    expect(await client.query('short')).toBeUndefined();
    expect(await client.query('minutes')).toBe(1);
    now += 2 * 60_000;
    expect(await client.query('minutes')).toBeUndefined();
    expect(await client.query('default')).toBe(1);
    now += 3600_000;
    expect(await client.query('default')).toBeUndefined();
    await client.close();
  });

  it('getOrSet: lifetime and grace in seconds or a string, timeouts in ms or a string', async () => {
    const client = new MemcachedClient({ transport: memoryTransport() });
    const value = await client.getOrSet('k', () => 'v', {
      lifetime: '5m',
      grace: '1h',
      lockTimeout: '2s',
      timeout: '100ms',
      hardTimeout: '1s',
    });
    expect(value).toBe('v');
    const slow = client.getOrSet('slow', () => new Promise(() => {}), { hardTimeout: '50ms' });
    await expect(slow).rejects.toMatchObject({ code: 'ERR_FACTORY_TIMEOUT' });
    await client.close();
  });

  it.each([
    ['lifetime', '5 minutes', 'ERR_INVALID_LIFETIME'],
    ['lifetime', '60', 'ERR_INVALID_LIFETIME'],
    ['lifetime', -1, 'ERR_INVALID_LIFETIME'],
    ['grace', 'soon', 'ERR_INVALID_LIFETIME'],
    ['grace', Number.NaN, 'ERR_INVALID_LIFETIME'],
    ['lockTimeout', '5x', 'ERR_INVALID_OPTION'],
    ['timeout', {}, 'ERR_INVALID_OPTION'],
    ['hardTimeout', '0ms', 'ERR_INVALID_OPTION'],
  ])('getOrSet `%s` %o → %s naming the option and the value as given', async (option, value, code) => {
    const client = new MemcachedClient({ transport: memoryTransport() });
    const error = await rejection(client.getOrSet('k', () => 1, { [option]: value }));
    expect(error.code).toBe(code);
    expect(error.message).toContain(`\`${option}\``);
    expect(error.message).toContain(describeValue(value));
    expect(error.context).toMatchObject({ option, value });
    await client.close();
  });

  it('a bare number string says which unit to add', async () => {
    const client = new MemcachedClient({ transport: memoryTransport() });
    const error = await rejection(client.set('k', 1, { lifetime: '60' as never }));
    expect(error.code).toBe('ERR_INVALID_LIFETIME');
    expect(error.message).toContain('invalid `lifetime` "60"');
    expect(error.message).toContain("write '60s'");
    const lifetime = thrown(() => new MemcachedClient({ transport, defaultLifetime: '3600' as never }));
    expect(lifetime.message).toContain('`defaultLifetime` "3600"');
    expect(lifetime.context).toMatchObject({ option: 'defaultLifetime', value: '3600' });
    await client.close();
  });
});

describe('messages show values as they were given (item 9)', () => {
  it('strings quoted, numbers as JavaScript writes them, long values cut short', () => {
    expect(describeValue('60')).toBe('"60"');
    expect(describeValue(60)).toBe('60');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(-0)).toBe('-0');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(10n)).toBe('10n');
    expect(describeValue(function named() {})).toBe('function named');
    const long = describeValue('x'.repeat(300));
    expect(long).toBe(`"${'x'.repeat(64)}…" (300 characters)`);
    expect(describeValue({ a: 'y'.repeat(100) })).toHaveLength(65);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeValue(circular)).toBe('[object Object]');
  });

  it('a NaN key reads NaN, an undefined key has no "a undefined"', async () => {
    const client = new MemcachedClient({ transport });
    const nan = await rejection(client.set(Number.NaN, 1));
    expect(nan.message).toContain('invalid key NaN');
    expect(nan.message).not.toContain('key null');
    const missing = await rejection(client.set(undefined as never, 1));
    expect(missing.message).toContain('invalid key undefined: undefined cannot be (part of) a key');
    expect(missing.message).not.toContain('a undefined');
    const inside = await rejection(client.set(['a', new Map()] as never, 1));
    expect(inside.message).toContain('a Map instance');
    await client.close();
  });

  it('a 300-character raw key is cut short in the message and whole in the context', async () => {
    const client = new MemcachedClient({ transport });
    const key = `page:${'x'.repeat(295)}`;
    const error = await rejection(client.set(key, 'v', { raw: true }));
    expect(error.code).toBe('ERR_INVALID_KEY');
    expect(error.message).toContain('…" (300 characters)');
    expect(error.message.length).toBeLessThan(300);
    expect(error.context.key).toBe(key);
    await client.close();
  });

  it('no doubled period after a reason that ends in one', async () => {
    const client = new MemcachedClient({ transport });
    const error = await rejection(client.set('k', { pending: Promise.resolve() }));
    expect(error.code).toBe('ERR_NOT_SERIALIZABLE');
    expect(error.message).not.toContain('..');
    await client.close();
  });

  it('transport arguments and typed options quote strings too', () => {
    expect(() => assertExptime('60' as never)).toThrow(
      '`exptime` must be a whole number of seconds within 32 bits, got "60"',
    );
    expect(() => new MemcachedClient({ transport, trackKeys: 'true' as never })).toThrow('got "true"');
    expect(() => new MemcachedClient({ transport, now: Object.create(null) })).toThrow('got {}');
  });

  it('getOrSet without a factory shows what it got', async () => {
    const client = new MemcachedClient({ transport });
    const error = await rejection(client.getOrSet('k', 'value' as never));
    expect(error.message).toContain('getOrSet needs a factory function, got "value"');
    await client.close();
  });

  it('invalidateNamespace shows what it got', async () => {
    const client = new MemcachedClient({ transport });
    const error = await rejection(client.invalidateNamespace(5 as never));
    expect(error.message).toContain('got 5');
    await client.close();
  });
});
