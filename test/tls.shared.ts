/**
 * TLS to memcached (`memcached -Z`, certificates made by the test with openssl), for every network transport:
 * the right CA works for every operation; another CA, an expired certificate, plain TCP against a TLS port and
 * mutual TLS without the client certificate are a down server whose event names the problem, with misses within
 * the deadline (never a hang, never a throw); mutual TLS with the certificate works; a `tls` option that is not a
 * boolean or an object is refused when the transport is made.
 */
import type { ConnectionOptions } from 'node:tls';
import type { TransportFactory } from '@lovely-memcached/core';
import {
  makeTestCertificates,
  type RunningMemcached,
  startMemcached,
  type TestCertificates,
} from '@lovely-memcached/testing';
import { describe, expect, it } from 'vitest';
import { captureWarnings } from './support/expected-warnings';

/** What the suite needs of a transport's options (every network transport takes these). */
export interface TlsSuiteOptions {
  tls?: boolean | ConnectionOptions;
  timeout?: number;
  onEvent?: (event: { type: string }) => void;
}

export interface TlsServers {
  certs: TestCertificates;
  /** Serves the certificate `certs.ca` signed. */
  valid: RunningMemcached;
  /** Serves an expired certificate signed by `certs.ca`. */
  expired: RunningMemcached;
  /** Asks for a client certificate signed by `certs.ca` (`ssl_verify_mode=2`). */
  mutual: RunningMemcached;
  stop(): Promise<void>;
}

export async function startTlsServers(): Promise<TlsServers> {
  const certs = makeTestCertificates();
  const [valid, expired, mutual] = await Promise.all([
    startMemcached({ args: certs.memcachedTlsArgs() }),
    startMemcached({ args: certs.memcachedTlsArgs({ expired: true }) }),
    startMemcached({ args: certs.memcachedTlsArgs({ verifyClients: true }) }),
  ]);
  return {
    certs,
    valid,
    expired,
    mutual,
    async stop() {
      await Promise.all([valid.stop(), expired.stop(), mutual.stop()]);
      certs.remove();
    },
  };
}

interface ServerDown {
  reason: string;
  /** The socket's error code, or a pattern when the race between the server's alert and its reset decides. */
  code: string | RegExp;
}

const DEADLINE = 400;
/** Two calls that each must settle within the deadline, with room for a loaded machine. */
const SETTLED_WITHIN = 1500;

export function describeTls(
  name: string,
  makeTransport: (options: TlsSuiteOptions) => TransportFactory,
  servers: () => TlsServers,
): void {
  function recorded(options: TlsSuiteOptions, running: RunningMemcached) {
    const events: Array<{ type: string }> = [];
    const transport = makeTransport({ timeout: DEADLINE, ...options, onEvent: (e) => events.push(e) })(
      running.servers,
    );
    return { transport, events };
  }

  /** A get and a set miss within the deadline; the one event is a server-down like `expected`. */
  async function expectDown(
    options: TlsSuiteOptions,
    running: RunningMemcached,
    { reason, code }: ServerDown,
  ) {
    // A server never reached: the transport says so once, as expected here.
    const warnings = captureWarnings('LOVELY_MEMCACHED_UNREACHABLE');
    try {
      const { transport, events } = recorded(options, running);
      const started = performance.now();
      expect(await transport.get('k')).toBeUndefined();
      expect(await transport.set('k', Buffer.from('v'))).toBe('unavailable');
      expect(performance.now() - started).toBeLessThan(SETTLED_WITHIN);
      expect(events).toEqual([
        {
          type: 'server-down',
          server: running.servers[0],
          reason,
          code: typeof code === 'string' ? code : expect.stringMatching(code),
        },
      ]);
      expect(transport.reachable?.('k')).toBe(false);
      await transport.close();
    } finally {
      warnings.restore();
    }
  }

  describe(`${name} over TLS`, () => {
    it('a burst of writes larger than one TLS record is answered, not left unread by memcached until the deadline', async () => {
      // memcached 1.6.18 reads one TLS record per wake-up: the rest of a burst waits in OpenSSL, unseen by its
      // poll, until more bytes come (the transports nudge it, see stall-nudge.ts in the kit). 256 sets of 100
      // bytes leave in one write of ~35 KB, three records.
      const { certs, valid } = servers();
      const { transport, events } = recorded({ tls: { ca: certs.ca } }, valid);
      for (const [count, size] of [
        [256, 100],
        [100, 1000],
      ] as const) {
        const started = performance.now();
        const statuses = await Promise.all(
          Array.from({ length: count }, (_, i) => transport.set(`burst-${i}`, Buffer.alloc(size, 'v'))),
        );
        expect(statuses.filter((status) => status !== 'stored')).toEqual([]);
        // A few ms (the nudge follows the burst); far from the deadline even on a busy machine.
        expect(performance.now() - started).toBeLessThan(150);
      }
      expect(events).toEqual([]);
      await transport.close();
    });

    it('works for every operation with the CA that signed the server certificate', async () => {
      const { certs, valid } = servers();
      const { transport, events } = recorded({ tls: { ca: certs.ca } }, valid);
      const text = (item: { value: Uint8Array } | undefined) => Buffer.from(item?.value ?? []).toString();
      expect(await transport.set('a', Buffer.from('1'), { flags: 7 })).toBe('stored');
      expect(await transport.add('b', Buffer.from('2'))).toBe('stored');
      expect(await transport.append('a', Buffer.from('0'))).toBe('stored');
      const a = await transport.get('a');
      expect([text(a), a?.flags]).toEqual(['10', 7]);
      expect(await transport.cas?.('a', Buffer.from('11'), a?.cas ?? 0n)).toBe('stored');
      expect([...((await transport.getMulti?.(['a', 'b', 'c'])) ?? new Map()).keys()].sort()).toEqual([
        'a',
        'b',
      ]);
      expect(await transport.incr('a', 5)).toBe(16n);
      expect(await transport.touch('a', 60)).toBe(true);
      expect(await transport.delete('b')).toBe(true);
      // deleteMany is optional (core falls back to deletes): the quiet bulk delete where the transport has one.
      if (transport.deleteMany !== undefined) await transport.deleteMany(['a']);
      else expect(await transport.delete('a')).toBe(true);
      expect(await transport.get('a')).toBeUndefined();
      expect(await transport.set('big', Buffer.alloc(900 * 1024, 'x'))).toBe('stored');
      expect((await transport.get('big'))?.value.length).toBe(900 * 1024);
      const [stats] = await transport.stats();
      expect(stats?.stats.ssl_handshake_errors).toMatch(/^\d+$/);
      await transport.flush();
      expect(await transport.get('big')).toBeUndefined();
      expect(events).toEqual([]);
      await transport.close();
    });

    it('a client that trusts another CA: a down server naming the verification error', async () => {
      const { certs, valid } = servers();
      await expectDown({ tls: { ca: certs.otherCa } }, valid, {
        reason: 'connect',
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      });
    });

    it('an expired server certificate: a down server naming CERT_HAS_EXPIRED', async () => {
      const { certs, expired } = servers();
      await expectDown({ tls: { ca: certs.ca } }, expired, { reason: 'connect', code: 'CERT_HAS_EXPIRED' });
    });

    it('plain TCP against a TLS port: a down server (memcached resets it), never a hang', async () => {
      await expectDown({}, servers().valid, { reason: 'closed-before-reply', code: 'ECONNRESET' });
    });

    it('mutual TLS: works with the client certificate', async () => {
      const { certs, mutual } = servers();
      const { transport, events } = recorded(
        { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } },
        mutual,
      );
      expect(await transport.set('m', Buffer.from('mutual'))).toBe('stored');
      expect(Buffer.from((await transport.get('m'))?.value ?? []).toString()).toBe('mutual');
      expect(events).toEqual([]);
      await transport.close();
    });

    it('mutual TLS without the client certificate: a down server naming the missing certificate', async () => {
      const { certs, mutual } = servers();
      // TLS 1.3: the client's handshake completes before the server checks for a certificate; the server then
      // sends an alert and closes. When the request was already on its way, the server's kernel answers it
      // with a reset that can overtake the alert: either code can come.
      await expectDown({ tls: { ca: certs.ca } }, mutual, {
        reason: 'closed-before-reply',
        code: /^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/,
      });
    });

    it('refuses a tls option that is not a boolean or an object, naming `tls`', () => {
      for (const tls of ['yes', 1, null, ['ca']]) {
        let thrown: unknown;
        try {
          makeTransport({ tls: tls as never });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toMatchObject({ name: 'CacheError', code: 'ERR_INVALID_OPTION' });
        expect((thrown as Error).message).toMatch(/`tls`/);
      }
    });
  });
}
