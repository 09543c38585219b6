import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemcachedClient } from '@lovely-memcached/core';
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { createPagesServer, type User } from '../http-pages';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('the HTTP pages example', () => {
  it('serves cached pages and re-renders those showing a changed record', async () => {
    const cache = new MemcachedClient({ transport: memoryTransport() });
    const users = new Map<string, User>([
      ['42', { id: '42', name: 'Ada' }],
      ['7', { id: '7', name: 'Alan' }],
    ]);
    const server = createPagesServer(cache, users);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (path: string) => {
      const response = await fetch(base + path);
      return [response.headers.get('x-cache'), await response.text()];
    };

    expect(await get('/users/42')).toEqual(['miss', '<h1>Ada</h1>']);
    expect(await get('/users/42')).toEqual(['hit', '<h1>Ada</h1>']);
    expect(await get('/team')).toEqual(['miss', '<ul><li>Ada</li><li>Alan</li></ul>']);
    expect(await get('/users/7')).toEqual(['miss', '<h1>Alan</h1>']);
    expect(server.renders).toBe(3);

    const put = await fetch(`${base}/users/42`, { method: 'PUT', body: 'Ada Lovelace' });
    expect(put.status).toBe(204);
    expect(await get('/users/42')).toEqual(['miss', '<h1>Ada Lovelace</h1>']);
    expect(await get('/team')).toEqual(['miss', '<ul><li>Ada Lovelace</li><li>Alan</li></ul>']);
    expect(await get('/users/7')).toEqual(['hit', '<h1>Alan</h1>']); // not tied to user 42
    server.close();
    await cache.close();
  });
});

describe('the tour', () => {
  it('runs in memory and shows every feature', () => {
    const output = execFileSync(
      join(examples, 'node_modules', '.bin', 'tsx'),
      ['--conditions=@lovely-memcached/source', 'tour.ts'],
      {
        cwd: examples,
        env: { ...process.env, MEMCACHED_SERVERS: '' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    for (const heading of [
      'Hashed keys',
      'Raw keys',
      'Namespaces',
      'Lifetimes',
      'Key tracking',
      'Dependencies',
      'Statistics',
      'server going away',
      'L1: a near cache',
      'Events',
    ]) {
      expect(output).toContain(heading);
    }
    expect(output).toContain("→ 'cached value'");
    expect(output).toContain('→ { hits: 1, misses: 1, entries: 1 }');
    expect(output).toMatch(/web2 through the bus[^\n]*\n {4}→ \[ undefined, undefined \]/);
    expect(output).toContain('trackKeys not enabled');
    expect(output).toContain('→ [ undefined, undefined ]');
    // Each caption shows what its result line prints (issue 23.12).
    expect(output).toMatch(/set\(\{ user: 42, page: 'about' \}, \{ [^\n]*tags: new Set\(\['a'\]\) \}\)\n/);
    expect(output).toMatch(/tags: Set\(1\) \{ 'a' \}/);
    expect(output).toMatch(
      /await cache\.dependents\('user:42'\)[^\n]*keys[^\n]*\n {4}→ \[ '[0-9a-f]{32}', '[0-9a-f]{32}' \]\n/,
    );
    expect(output).toMatch(
      /\/about, tied to nothing, stays\n {4}→ \[ undefined, undefined, '<p>about<\/p>' \]/,
    );
    expect(output).toMatch(
      /await bus\.notify\(new InvalidateCacheEvent\(\{ cacheName: 'nope'[^\n]*\n {4}→ bus error: no client registered as "nope"/,
    );
    expect(output).not.toContain('(process warning)');
    expect(output).toContain('await cache.invalidateAll()  // in memory: only this store');
    expect(output.trim().endsWith('Done.')).toBe(true);
  }, 60_000);
});
