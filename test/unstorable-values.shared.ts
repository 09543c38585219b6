/**
 * Issue 23, item 3: `getOrSet` returns a value its factory computed even when it cannot be stored (too large,
 * not serializable, `undefined`): every caller gets it, nothing is cached, and the failure is a process warning
 * once per kind, never a rejection. Run over the memory transport and over real memcached.
 */
import { randomBytes } from 'node:crypto';
import { MemcachedClient, type TransportFactory } from '@lovely-memcached/core';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { trackUnhandledRejections } from './support/unhandled-rejections';

export interface UnstorableSetup {
  transport: TransportFactory;
  servers: string[];
  teardown(): Promise<void>;
}

/** The warnings `getOrSet` gave about values it could not cache, by kind (the error code they name). */
function cacheWarnings(spy: MockInstance<typeof process.emitWarning> | undefined, code: string): number {
  return (spy?.mock.calls ?? []).filter(
    ([message]) =>
      typeof message === 'string' &&
      message.startsWith('getOrSet could not cache a computed value') &&
      message.includes(`(${code})`),
  ).length;
}

/**
 * Captured, not printed (they are what these tests provoke), for the whole file: a warning is said once per
 * process, so a second suite in the file sees the count the first one left.
 */
let warnings: MockInstance<typeof process.emitWarning> | undefined;

/** Bytes that do not compress: a page of text would be stored compressed, well under the item size limit. */
const incompressible = (bytes: number) => randomBytes(bytes).toString('base64');

export function describeUnstorableValues(name: string, setup: () => Promise<UnstorableSetup>): void {
  describe(`getOrSet over ${name}: a value that cannot be stored is still the callers'`, () => {
    let env: UnstorableSetup;
    const clients: MemcachedClient[] = [];
    const unhandled = trackUnhandledRejections();
    /** Clients sharing one namespace, like processes of one application. */
    const pair = () => {
      const ns = `unstorable-${Math.random().toString(36).slice(2)}`;
      return [0, 1].map(() => {
        const client = new MemcachedClient({ transport: env.transport, servers: env.servers, defaultNS: ns });
        clients.push(client);
        return client;
      }) as [MemcachedClient, MemcachedClient];
    };

    beforeAll(async () => {
      env = await setup();
      warnings ??= vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    });
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await env.teardown();
    });

    it('a 2 MB page: every caller gets it, in each client; nothing is cached; one warning', async () => {
      const [a, b] = pair();
      const page = `<html>${incompressible(1536 * 1024)}</html>`; // 2 MB of text
      let renders = 0;
      const render = async () => {
        renders++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return page;
      };
      const started = performance.now();
      const answers = await Promise.all([
        a.getOrSet('/big', render, { lifetime: 60 }),
        a.getOrSet('/big', render, { lifetime: 60 }),
        b.getOrSet('/big', render, { lifetime: 60 }),
      ]);
      for (const answer of answers) expect(answer).toBe(page);
      // The other client did not wait out its lock timeout (5 s) for a value that was never going to land.
      expect(performance.now() - started).toBeLessThan(3000);
      expect(renders).toBeGreaterThanOrEqual(1);
      expect(renders).toBeLessThanOrEqual(2); // a's two callers share one factory call
      expect(await a.query('/big')).toBeUndefined();

      // Nothing was cached: the next call computes again, and is not told twice.
      expect(await a.getOrSet('/big', render, { lifetime: 60 })).toBe(page);
      expect(renders).toBeGreaterThanOrEqual(2);
      expect(cacheWarnings(warnings, 'ERR_VALUE_TOO_LARGE')).toBe(1);
      expect(unhandled.reasons).toEqual([]);
    });

    it('a factory returning undefined: the callers get undefined, nothing is cached', async () => {
      const [a, b] = pair();
      let calls = 0;
      const lookup = () => {
        calls++;
        return undefined;
      };
      const answers = await Promise.all([
        a.getOrSet('missing-user', lookup),
        b.getOrSet('missing-user', lookup),
      ]);
      expect(answers).toEqual([undefined, undefined]);
      expect(await a.getOrSet('missing-user', lookup)).toBeUndefined();
      expect(calls).toBeGreaterThanOrEqual(2);
      expect(await b.query('missing-user', { default: 'absent' })).toBe('absent');
      expect(cacheWarnings(warnings, 'ERR_NOT_SERIALIZABLE')).toBe(1);
      expect(unhandled.reasons).toEqual([]);
    });

    it('a value holding a function: the callers get it as computed, nothing is cached', async () => {
      const [a] = pair();
      const value = { name: 'Ada', greet: () => 'hi' };
      expect(await a.getOrSet('with-function', () => value)).toBe(value);
      expect(await a.query('with-function')).toBeUndefined();
      // Same kind as `undefined`: still one warning for it.
      expect(cacheWarnings(warnings, 'ERR_NOT_SERIALIZABLE')).toBe(1);
    });

    it('within grace, a refresh whose value cannot be stored answers it and keeps the stale entry', async () => {
      let offset = 0;
      const client = new MemcachedClient({
        transport: env.transport,
        servers: env.servers,
        defaultNS: `unstorable-${Math.random().toString(36).slice(2)}`,
        now: () => Date.now() + offset,
      });
      clients.push(client);
      expect(await client.getOrSet('report', () => 'small', { lifetime: 1, grace: 60 })).toBe('small');
      offset += 2000; // past its lifetime, within grace
      const big = incompressible(1536 * 1024);
      // Without a soft timeout a stale value is answered at once while the refresh runs in the background.
      expect(await client.getOrSet('report', () => big, { lifetime: 1, grace: 60, timeout: 2000 })).toBe(big);
      expect(await client.getOrSet('report', () => 'later', { lifetime: 1, grace: 60 })).toBe('small');
      expect(unhandled.reasons).toEqual([]);
    });
  });
}
