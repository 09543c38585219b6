/**
 * The HTTP pages example answers errors as a server should (issue 23.3): a page too large to cache is served all
 * the same, a failing cache is a 500 for that request, a body too large a 413; never an unhandled rejection.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPagesServer, type User } from '../http-pages';

describe('the HTTP pages example handles errors as a server should (#23.3)', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    vi.restoreAllMocks();
  });

  async function serve(cache: MemcachedClient, errors: unknown[]) {
    process.on('unhandledRejection', onUnhandled);
    const users = new Map<string, User>([['42', { id: '42', name: 'Ada' }]]);
    const server = createPagesServer(cache, users, (error) => errors.push(error));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { server, base };
  }

  it('a 1.5 MB name: the PUT and every GET succeed, the page is served uncached, one warning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const cache = new MemcachedClient({ transport: memoryTransport() });
    const errors: unknown[] = [];
    const { server, base } = await serve(cache, errors);
    // Random text: a repeated letter would compress under memcached's 1 MB item limit and be cached.
    const name = randomBytes(1.5 * 768 * 1024).toString('base64');
    const put = await fetch(`${base}/users/42`, { method: 'PUT', body: name });
    expect(put.status).toBe(204);
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${base}/users/42`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-cache')).toBe('miss'); // too large to cache: rendered each time
      expect(await response.text()).toBe(`<h1>${name}</h1>`);
    }
    expect(server.renders).toBe(2);
    expect(errors).toEqual([]);
    expect(unhandled).toEqual([]);
    const cacheWarnings = warn.mock.calls.filter(([message]) => String(message).includes('could not cache'));
    expect(cacheWarnings).toHaveLength(1);
    expect(String(cacheWarnings[0]?.[0])).toContain('ERR_VALUE_TOO_LARGE');
    server.close();
    await cache.close();
  });

  it('a failing cache is a 500 for that request, logged; the server keeps serving', async () => {
    const cache = new MemcachedClient({ transport: memoryTransport() });
    const errors: unknown[] = [];
    const { server, base } = await serve(cache, errors);
    await cache.close(); // every call now rejects with ERR_CLIENT_CLOSED
    const page = await fetch(`${base}/users/42`);
    expect(page.status).toBe(500);
    expect(await page.text()).toBe('internal error');
    const put = await fetch(`${base}/users/42`, { method: 'PUT', body: 'Ada Lovelace' });
    expect(put.status).toBe(500);
    expect(errors).toEqual([
      expect.objectContaining({ code: 'ERR_CLIENT_CLOSED' }),
      expect.objectContaining({ code: 'ERR_CLIENT_CLOSED' }),
    ]);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    expect(unhandled).toEqual([]);
    server.close();
  });

  it('a body over 4 MB is refused with 413, not read to the end', async () => {
    const cache = new MemcachedClient({ transport: memoryTransport() });
    const errors: unknown[] = [];
    const { server, base } = await serve(cache, errors);
    const response = await fetch(`${base}/users/42`, {
      method: 'PUT',
      body: 'x'.repeat(5 * 1024 * 1024),
    }).catch((error: unknown) => error);
    // The server answers 413 and closes; a client still sending may see the reset instead.
    if (response instanceof Response) expect(response.status).toBe(413);
    expect(errors).toEqual([]);
    expect(unhandled).toEqual([]);
    server.close();
    await cache.close();
  });
});
