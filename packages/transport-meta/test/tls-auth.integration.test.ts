/**
 * TLS (`memcached -Z`, a self-signed certificate made with openssl) and ASCII authentication (`memcached -Y`):
 * the right settings work, a certificate the client rejects and wrong credentials are a down server with a
 * clear event, never a hang, never a throw, never the password.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureWarnings } from '../../../test/support/expected-warnings';
import { type MetaTransportEvent, metaTransport } from '../src';

let dir: string;
let tlsServer: RunningMemcached;
let authServer: RunningMemcached;
let ca: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lovely-meta-tls-'));
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2'].concat([
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ]),
      { stdio: 'ignore' },
    );
  } catch (cause) {
    throw new Error('openssl failed: install it with `apt-get install -y openssl`', { cause });
  }
  ca = readFileSync(cert);
  tlsServer = await startMemcached({ args: ['-Z', '-o', `ssl_chain_cert=${cert},ssl_key=${key}`] });
  writeFileSync(join(dir, 'auth'), 'alice:correct-horse\n');
  authServer = await startMemcached({ args: ['-Y', join(dir, 'auth')] });
});

afterAll(async () => {
  await Promise.all([tlsServer?.stop(), authServer?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('works with the server’s CA', async () => {
    const client = new MemcachedClient({
      transport: metaTransport({ tls: { ca } }),
      servers: tlsServer.servers,
    });
    expect(await client.set('k', { over: 'tls' })).not.toBeNull();
    expect(await client.query('k')).toEqual({ over: 'tls' });
    expect((await client.getStatistics())[0]?.[1].ssl_handshake_errors).toMatch(/^\d+$/);
    await client.close();
  });

  it('a certificate the client rejects is a down server with the TLS error, never a hang', async () => {
    // The server is never reached: the transport says so once, as expected here.
    const warnings = captureWarnings('LOVELY_MEMCACHED_UNREACHABLE');
    try {
      const events: MetaTransportEvent[] = [];
      const transport = metaTransport({ tls: true, timeout: 500, onEvent: (e) => events.push(e) })(
        tlsServer.servers,
      );
      const started = performance.now();
      expect(await transport.get('k')).toBeUndefined();
      expect(await transport.set('k', Buffer.from('v'))).toBe('unavailable');
      expect(performance.now() - started).toBeLessThan(1000);
      expect(events[0]).toMatchObject({ type: 'server-down', reason: 'connect' });
      expect((events[0] as { code?: string }).code).toMatch(/CERT|SELF_SIGNED/);
      await transport.close();
    } finally {
      warnings.restore();
    }
  });

  it('plain TCP to a TLS port is a down server, never a hang', async () => {
    const transport = metaTransport({ timeout: 300 })(tlsServer.servers);
    const started = performance.now();
    expect(await transport.get('k')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(transport.reachable?.('k')).toBe(false);
    await transport.close();
  });
});

describe('ASCII authentication (memcached -Y)', () => {
  it('authenticates with the right credentials, first on every connection', async () => {
    const client = new MemcachedClient({
      transport: metaTransport({ username: 'alice', password: 'correct-horse', connections: 2 }),
      servers: authServer.servers,
    });
    expect(await client.set('k', 'secret data')).not.toBeNull();
    expect(await Promise.all(Array.from({ length: 10 }, () => client.query('k')))).toEqual(
      Array(10).fill('secret data'),
    );
    await client.close();
  });

  it('wrong credentials: an auth-failed event naming the user, never the password, never a hang', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const events: MetaTransportEvent[] = [];
    const transport = metaTransport({
      username: 'alice',
      password: 'wrong-password',
      timeout: 500,
      onEvent: (e) => events.push(e),
    })(authServer.servers);
    const started = performance.now();
    expect(await transport.get('k')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
    const failed = events.find((e) => e.type === 'auth-failed');
    expect(failed).toMatchObject({ type: 'auth-failed', username: 'alice', server: authServer.servers[0] });
    expect(failed?.type === 'auth-failed' && failed.error.code).toBe('ERR_AUTH');
    expect(JSON.stringify(events)).not.toContain('wrong-password');
    expect(events.find((e) => e.type === 'server-down')).toMatchObject({ reason: 'auth' });
    // A process warning too, once, as for an unreachable server (#23.7).
    expect(warn.mock.calls.filter(([message]) => String(message).includes('authentication failed'))).toEqual([
      [expect.stringContaining('metaTransport: authentication failed for user "alice"'), expect.anything()],
    ]);
    expect(JSON.stringify(warn.mock.calls)).not.toContain('wrong-password');
    warn.mockRestore();
    await transport.close();
  });

  it('credentials sent to a memcached without -Y are never left on it as a readable item', async () => {
    const plain = await startMemcached();
    try {
      const transport = metaTransport({ username: 'reader', password: 'secret-password' })(plain.servers);
      expect(await transport.set('k', Buffer.from('v'))).toBe('stored');
      const direct = metaTransport()(plain.servers);
      expect(await direct.get('lovely-memcached:auth')).toBeUndefined();
      await Promise.all([transport.close(), direct.close()]);
    } finally {
      await plain.stop();
    }
  });

  it('without credentials every request is refused: misses, never a hang', async () => {
    const transport = metaTransport({ timeout: 300 })(authServer.servers);
    expect(await transport.get('k')).toBeUndefined();
    expect(await transport.set('k', Buffer.from('v'))).toBe('unavailable');
    await transport.close();
  });
});
