/**
 * Issue 23, items 5 and 6, for the transports: a name a transport does not know is refused when it is made,
 * with the closest known one; every duration takes a string with a unit; a port out of range is refused when
 * the client is made. Nothing here connects.
 */
import { MemcachedClient } from '@lovely-memcached/core';
import { checkMilliseconds, resolveCommonOptions } from '@lovely-memcached/transport-kit';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { metaTransport } from '@lovely-memcached/transport-meta';
import { describe, expect, it } from 'vitest';
import { thrown } from '../packages/core/test/support/thrown';

const transports = [
  ['memjsTransport', memjsTransport],
  ['metaTransport', metaTransport],
] as const;

describe.each(transports)('%s options', (name, make) => {
  it.each([
    ['timout', 'timeout'],
    ['timeoutMs', 'timeout'],
    ['probeinterval', 'probeInterval'],
    ['maxItemsize', 'maxItemSize'],
    ['onevent', 'onEvent'],
    ['connection', 'connections'],
    ['user', 'username'],
    ['autodiscover', 'autoDiscover'],
  ])('`%s` is refused: did you mean `%s`?', (option, suggestion) => {
    const error = thrown(() => make({ [option]: 1 } as never));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toContain(`unknown option \`${option}\` in the ${name}() options`);
    expect(error.message).toContain(`did you mean \`${suggestion}\``);
  });

  it('a name close to none lists the known ones; servers belong to the client', () => {
    const error = thrown(() => make({ servers: ['127.0.0.1:11211'] } as never));
    expect(error.message).toContain('unknown option `servers`');
    expect(error.message).toMatch(/known options are `timeout`, `probeInterval`/);
  });

  it('every documented option passes', () => {
    expect(() =>
      make({
        timeout: 500,
        probeInterval: 250,
        maxItemSize: 1024 * 1024,
        onEvent: () => {},
        autoDiscover: false,
        gutter: { servers: ['127.0.0.1:1'], maxLifetime: 10 },
        maxQueuedDeletes: 10,
        connections: 2,
        tls: false,
      }),
    ).not.toThrow();
  });

  it('durations: milliseconds as a number, or a string with a unit', async () => {
    expect(() => make({ timeout: '2s', probeInterval: '250ms' })).not.toThrow();
    expect(() => make({ autoDiscover: { interval: '1m' } })).not.toThrow();
    expect(() => make({ gutter: { servers: ['127.0.0.1:1'], maxLifetime: '30s' } })).not.toThrow();
    for (const [options, option, shown] of [
      [{ timeout: '2 seconds' }, 'timeout', '"2 seconds"'],
      [{ timeout: '500' }, 'timeout', '"500"'],
      [{ probeInterval: '0ms' }, 'probeInterval', '"0ms"'],
      [{ autoDiscover: { interval: 'often' } }, 'autoDiscover.interval', '"often"'],
      [{ gutter: { servers: ['127.0.0.1:1'], maxLifetime: '1500ms' } }, 'gutter.maxLifetime', '"1500ms"'],
    ] as const) {
      const error = thrown(() => make(options as never));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain(`\`${option}\``);
      expect(error.message).toContain(shown);
    }
  });

  it('unknown names in autoDiscover and gutter are refused too', () => {
    expect(thrown(() => make({ autoDiscover: { intervall: 1000 } } as never)).message).toContain(
      'did you mean `interval`',
    );
    expect(thrown(() => make({ gutter: { servers: ['127.0.0.1:1'], ttl: 10 } } as never)).message).toContain(
      'did you mean `maxLifetime`',
    );
  });

  it('a port out of range is refused when the client is made, not on every call', () => {
    for (const server of ['127.0.0.1:99999', '127.0.0.1:0', '127.0.0.1;11211']) {
      const error = thrown(() => new MemcachedClient({ transport: make(), servers: [server] }));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain(JSON.stringify(server));
    }
  });

  it('passed uncalled, it is still the client that says to call it', () => {
    const error = thrown(() => new MemcachedClient({ transport: make as never }));
    expect(error.code).toBe('ERR_NO_TRANSPORT');
  });
});

describe('the shared checks', () => {
  it('checkMilliseconds converts a duration string and names the value as given', () => {
    expect(checkMilliseconds('timeout', '1.5s')).toBe(1500);
    expect(checkMilliseconds('timeout', 20)).toBe(20);
    expect(() => checkMilliseconds('timeout', '5m30s')).toThrow(/`timeout` must be .* got "5m30s"/);
    expect(resolveCommonOptions('memjs', { timeout: '1s', probeInterval: '100ms' })).toMatchObject({
      timeout: 1000,
      probeInterval: 100,
    });
  });

  it('memoryTransport refuses names it does not know, too', () => {
    expect(thrown(() => memoryTransport({ maxItemsize: 2048 } as never)).message).toContain(
      'did you mean `maxItemSize`',
    );
  });
});
