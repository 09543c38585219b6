/**
 * TLS to memcached (`memcached -Z`, certificates made by the test with openssl): the right CA works for every
 * operation; a wrong CA, an expired certificate and plain TCP against a TLS server are a down server whose event
 * names the problem, with misses within the deadline; mutual TLS; SASL over TLS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheError, MemcachedClient } from '@lovely-memcached/core';
import {
  makeTestCertificates,
  type RunningMemcached,
  startMemcached,
  type TestCertificates,
} from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MemjsTransportEvent, memjsTransport } from '../src';

let certs: TestCertificates;
let tlsServer: RunningMemcached;
let expiredServer: RunningMemcached;
let mutualServer: RunningMemcached;
let saslServer: RunningMemcached;
let saslDir: string;

beforeAll(async () => {
  certs = makeTestCertificates();
  saslDir = mkdtempSync(join(tmpdir(), 'lovely-sasl-tls-'));
  const sasldb = join(saslDir, 'sasldb2');
  execFileSync('saslpasswd2', ['-p', '-a', 'memcached', '-c', '-f', sasldb, 'alice'], { input: 'secret-pw' });
  writeFileSync(join(saslDir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${sasldb}\n`);
  [tlsServer, expiredServer, mutualServer, saslServer] = await Promise.all([
    startMemcached({ args: certs.memcachedTlsArgs() }),
    startMemcached({ args: certs.memcachedTlsArgs({ expired: true }) }),
    startMemcached({ args: certs.memcachedTlsArgs({ verifyClients: true }) }),
    startMemcached({ args: ['-S', ...certs.memcachedTlsArgs()], env: { SASL_CONF_PATH: saslDir } }),
  ]);
});

afterAll(async () => {
  await Promise.all([tlsServer, expiredServer, mutualServer, saslServer].map((s) => s?.stop()));
  certs?.remove();
  rmSync(saslDir, { recursive: true, force: true });
});

/** A transport that records its events; every call must settle within `timeout` plus slack. */
function recorded(options: Parameters<typeof memjsTransport>[0], servers: string[]) {
  const events: MemjsTransportEvent[] = [];
  const transport = memjsTransport({ timeout: 400, ...options, onEvent: (e) => events.push(e) })(servers);
  return { transport, events };
}

async function expectDownWithin(
  { transport, events }: ReturnType<typeof recorded>,
  code: RegExp,
): Promise<void> {
  const started = performance.now();
  expect(await transport.get('k')).toBeUndefined();
  expect(await transport.set('k', Buffer.from('v'))).toBe('unavailable');
  expect(performance.now() - started).toBeLessThan(1500);
  const down = events.find((e) => e.type === 'server-down');
  expect(down).toMatchObject({ type: 'server-down' });
  expect((down as { code?: string }).code).toMatch(code);
  await transport.close();
}

describe('memjsTransport over TLS', () => {
  it('works for every operation with the CA that signed the server certificate', async () => {
    const { transport, events } = recorded({ tls: { ca: certs.ca } }, tlsServer.servers);
    const bytes = (text: string) => Buffer.from(text);
    expect(await transport.set('a', bytes('1'), { flags: 7 })).toBe('stored');
    expect(await transport.add('b', bytes('2'))).toBe('stored');
    expect(await transport.append('a', bytes('0'))).toBe('stored');
    expect(Buffer.from((await transport.get('a'))?.value ?? []).toString()).toBe('10');
    expect([...((await transport.getMulti?.(['a', 'b', 'c'])) ?? new Map()).keys()].sort()).toEqual([
      'a',
      'b',
    ]);
    expect(await transport.incr('a', 5)).toBe(15n);
    expect(await transport.touch('a', 60)).toBe(true);
    expect(await transport.delete('b')).toBe(true);
    await transport.deleteMany?.(['a']);
    expect(await transport.get('a')).toBeUndefined();
    expect((await transport.stats())[0]?.stats.ssl_handshake_errors).toMatch(/^\d+$/);
    await transport.flush();
    expect(events).toEqual([]);
    await transport.close();
  });

  it('a burst of writes larger than one TLS record is answered, not left unread by memcached until the deadline', async () => {
    // memcached 1.6.18 reads one TLS record per wake-up: the rest of a burst waits in OpenSSL, unseen by its poll,
    // until more bytes come. 256 sets of 100 bytes leave in one write of ~35 KB, three records.
    const { transport, events } = recorded({ tls: { ca: certs.ca } }, tlsServer.servers);
    for (const [count, size] of [
      [256, 100],
      [100, 1000],
    ] as const) {
      const statuses = await Promise.all(
        Array.from({ length: count }, (_, i) => transport.set(`burst-${i}`, Buffer.alloc(size, 'v'))),
      );
      expect(statuses.filter((status) => status !== 'stored')).toEqual([]);
    }
    expect(events).toEqual([]);
    await transport.close();
  });

  it('a client that trusts another CA: a down server naming the verification error, misses within the deadline', async () => {
    await expectDownWithin(
      recorded({ tls: { ca: certs.otherCa } }, tlsServer.servers),
      /UNABLE_TO_VERIFY|CERT/,
    );
  });

  it('an expired server certificate: a down server naming CERT_HAS_EXPIRED', async () => {
    await expectDownWithin(recorded({ tls: { ca: certs.ca } }, expiredServer.servers), /CERT_HAS_EXPIRED/);
  });

  it('plain TCP against a TLS server: a down server, misses within the deadline, never a hang', async () => {
    const plain = recorded({}, tlsServer.servers);
    const started = performance.now();
    expect(await plain.transport.get('k')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1500);
    // The event names the likely cause: reset before any reply over plain TCP (memcached -Z does that).
    expect(plain.events.find((e) => e.type === 'server-down')).toMatchObject({
      type: 'server-down',
      reason: 'closed-before-reply',
    });
    expect(plain.transport.reachable?.('k')).toBe(false);
    await plain.transport.close();
  });

  it('mutual TLS: works with the client certificate, is a down server without it', async () => {
    const client = new MemcachedClient({
      transport: memjsTransport({ tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } }),
      servers: mutualServer.servers,
    });
    expect(await client.set('m', { mutual: true })).not.toBeNull();
    expect(await client.query('m')).toEqual({ mutual: true });
    await client.close();
    const anonymous = recorded({ tls: { ca: certs.ca } }, mutualServer.servers);
    const started = performance.now();
    expect(await anonymous.transport.get('m')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1500);
    expect(anonymous.events.find((e) => e.type === 'server-down')).toBeDefined();
    await anonymous.transport.close();
  });

  it('SASL over TLS', async () => {
    const client = new MemcachedClient({
      transport: memjsTransport({ tls: { ca: certs.ca }, username: 'alice', password: 'secret-pw' }),
      servers: saslServer.servers,
    });
    expect(await client.set('s', 'over tls, authenticated')).not.toBeNull();
    expect(await client.query('s')).toBe('over tls, authenticated');
    await client.close();
  });

  it('refuses a tls option that is not a boolean or an object, and connections that are not a whole number >= 1', () => {
    for (const options of [{ tls: 'yes' }, { tls: 1 }, { connections: 0 }, { connections: 1.5 }]) {
      expect(() => memjsTransport(options as never)).toThrow(CacheError);
    }
    expect(() => memjsTransport({ tls: 'yes' as never })).toThrow(/`tls`/);
    expect(() => memjsTransport({ connections: 0 })).toThrow(/`connections`/);
  });
});
