/**
 * SASL PLAIN against a memcached started with -S. Debian's memcached reads no password-file variable, so the
 * setup creates a Cyrus sasldb with saslpasswd2 (package sasl2-bin) and points SASL_CONF_PATH at a
 * memcached.conf naming it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type MemjsTransportEvent, memjsTransport } from '../src';

const USER = 'alice';
const PASSWORD = 'correct-horse-battery';

let dir: string;
let server: RunningMemcached;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lovely-sasl-'));
  const sasldb = join(dir, 'sasldb2');
  try {
    execFileSync('saslpasswd2', ['-p', '-a', 'memcached', '-c', '-f', sasldb, USER], { input: PASSWORD });
  } catch (cause) {
    throw new Error('saslpasswd2 failed: install it with `apt-get install -y sasl2-bin`', { cause });
  }
  writeFileSync(join(dir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${sasldb}\n`);
  server = await startMemcached({ args: ['-S'], env: { SASL_CONF_PATH: dir } });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The warnings about refused credentials, captured (they are what these tests provoke). */
function authWarnings(warn: { mock: { calls: unknown[][] } }): string[] {
  return warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('SASL'));
}

describe('SASL', () => {
  it('authenticates with the right credentials', async () => {
    const client = new MemcachedClient({
      transport: memjsTransport({ username: USER, password: PASSWORD }),
      servers: server.servers,
    });
    expect(await client.set('k', { secret: 'data' })).not.toBeNull();
    expect(await client.query('k')).toEqual({ secret: 'data' });
    expect((await client.getStatistics())[0]?.[1].auth_cmds).toMatch(/^[1-9]\d*$/);
    await client.close();
  });

  it('wrong credentials: a clear error event, never a hang, never the password', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const events: MemjsTransportEvent[] = [];
    const client = new MemcachedClient({
      transport: memjsTransport({
        username: USER,
        password: 'wrong-password',
        onEvent: (e) => events.push(e),
      }),
      servers: server.servers,
    });
    const started = performance.now();
    expect(await client.set('k', 'v')).toBeNull();
    expect(await client.query('k')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
    const failure = events.find((e) => e.type === 'auth-failed');
    expect(failure).toMatchObject({ type: 'auth-failed', username: USER, server: server.servers[0] });
    if (failure?.type !== 'auth-failed') throw new Error('no auth-failed event');
    expect(failure.error.code).toBe('ERR_AUTH');
    expect(failure.error.message).toContain('SASL authentication failed for user "alice"');
    const everything = JSON.stringify(events, (_, v) => (v instanceof Error ? `${v.message} ${v.stack}` : v));
    expect(everything).not.toContain('wrong-password');
    // And a process warning, once, whether or not `onEvent` is given (#23.7).
    expect(await client.query('k')).toBeUndefined();
    expect(authWarnings(warn)).toEqual([
      expect.stringContaining('memjsTransport: SASL authentication failed for user "alice"'),
    ]);
    expect(authWarnings(warn).join()).not.toContain('wrong-password');
    await client.close();
  });

  it('credentials against a memcached without SASL: one process warning saying so, without onEvent (#23.7)', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const plain = await startMemcached();
    try {
      const client = new MemcachedClient({
        transport: memjsTransport({ username: USER, password: PASSWORD }),
        servers: plain.servers,
      });
      expect(await client.set('k', 'v')).toBeNull();
      expect(await client.query('k')).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 400)); // probed again, refused again
      expect(await client.set('k', 'v')).toBeNull();
      const said = authWarnings(warn);
      expect(said).toHaveLength(1);
      expect(said[0]).toContain(`refused at ${plain.servers[0]}`);
      expect(said[0]).toContain('the server does not do SASL (memcached started without -S)');
      expect(said[0]).toContain('drop `username` and `password`');
      expect(said[0]).not.toContain(PASSWORD);
      await client.close();
    } finally {
      await plain.stop();
    }
  });

  it('no credentials against a SASL server: misses, not a hang', async () => {
    const client = new MemcachedClient({ transport: memjsTransport(), servers: server.servers });
    const started = performance.now();
    expect(await client.set('k', 'v')).toBeNull();
    expect(performance.now() - started).toBeLessThan(1000);
    await client.close();
  });
});
