/**
 * TLS to memcached (`memcached -Z`) where the memjs transport has its own part: SASL over TLS. The TLS behaviour
 * every network transport shares (right CA for every operation, another CA, an expired certificate, plain TCP,
 * mutual TLS, bad `tls` options, a burst larger than one TLS record) is test/tls.shared.ts, run over this
 * transport by test/tls.integration.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemcachedClient } from '@lovely-memcached/core';
import {
  makeTestCertificates,
  type RunningMemcached,
  startMemcached,
  type TestCertificates,
} from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureWarnings } from '../../../test/support/expected-warnings';
import { type MemjsTransportEvent, memjsTransport } from '../src';

let certs: TestCertificates;
let tlsServer: RunningMemcached;
let saslServer: RunningMemcached;
let saslDir: string;

beforeAll(async () => {
  certs = makeTestCertificates();
  saslDir = mkdtempSync(join(tmpdir(), 'lovely-sasl-tls-'));
  const sasldb = join(saslDir, 'sasldb2');
  execFileSync('saslpasswd2', ['-p', '-a', 'memcached', '-c', '-f', sasldb, 'alice'], { input: 'secret-pw' });
  writeFileSync(join(saslDir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${sasldb}\n`);
  [tlsServer, saslServer] = await Promise.all([
    startMemcached({ args: certs.memcachedTlsArgs() }),
    startMemcached({ args: ['-S', ...certs.memcachedTlsArgs()], env: { SASL_CONF_PATH: saslDir } }),
  ]);
});

afterAll(async () => {
  await Promise.all([tlsServer, saslServer].map((s) => s?.stop()));
  certs?.remove();
  rmSync(saslDir, { recursive: true, force: true });
});

/** A transport that records its events. */
function recorded(options: Parameters<typeof memjsTransport>[0], servers: string[]) {
  const events: MemjsTransportEvent[] = [];
  const transport = memjsTransport({ timeout: 400, ...options, onEvent: (e) => events.push(e) })(servers);
  return { transport, events };
}

describe('memjsTransport over TLS', () => {
  it('SASL over TLS: the right password works, a wrong one is an auth-failed event, not a hang', async () => {
    const client = new MemcachedClient({
      transport: memjsTransport({ tls: { ca: certs.ca }, username: 'alice', password: 'secret-pw' }),
      servers: saslServer.servers,
    });
    expect(await client.set('s', 'over tls, authenticated')).not.toBeNull();
    expect(await client.query('s')).toBe('over tls, authenticated');
    await client.close();
    // Refused credentials are also a process warning, once: expected here.
    const warnings = captureWarnings('LOVELY_MEMCACHED_AUTH');
    try {
      const wrong = recorded(
        { tls: { ca: certs.ca }, username: 'alice', password: 'wrong' },
        saslServer.servers,
      );
      expect(await wrong.transport.get('s')).toBeUndefined();
      expect(wrong.events.map((event) => event.type)).toEqual(['auth-failed', 'server-down']);
      expect(warnings.warnings.map((w) => w.code)).toEqual(['LOVELY_MEMCACHED_AUTH']);
      await wrong.transport.close();
    } finally {
      warnings.restore();
    }
  });
});
