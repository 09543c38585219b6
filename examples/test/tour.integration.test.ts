import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MemcachedClient } from '@lovely-memcached/core';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currItems, getForeign, liveKeys, setForeign } from './memcached-text';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(examples, 'node_modules', '.bin', 'tsx');

/** Runs the tour against `servers`, as `MEMCACHED_SERVERS=… npm run tour` does; resolves to its output. */
async function tour(servers: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(
    tsx,
    ['--conditions=@lovely-memcached/source', 'tour.ts'],
    {
      cwd: examples,
      env: { ...process.env, MEMCACHED_SERVERS: servers, TOUR_FLUSH: '', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  // Nothing on stderr: the outage's process warning is shown in the tour's output, with what it means.
  expect(stderr).toBe('');
  return stdout;
}

describe('the tour against a memcached that holds data of its own', () => {
  let server: RunningMemcached;
  let address: string;

  beforeAll(async () => {
    server = await startMemcached();
    address = server.servers[0] as string;
  });
  afterAll(() => server.stop());

  it('leaves the keys it did not write alone and takes away every key it wrote', async () => {
    // Another application's data, stored with no expiry, and its key tracking (whose registry the tour's
    // tracking clients append to: a key that is not the tour's, though the tour writes to it).
    await setForeign(address, 'someone-elses:config', 'keep me');
    await setForeign(address, 'someone-elses:session', '{"user":42}');
    const app = new MemcachedClient({ transport: memjsTransport(), servers: address, trackKeys: true });
    await app.set('profile', 'Ada', { ns: 'app', lifetime: 0 });
    const itemsBefore = await currItems(address);

    const output = await tour(address);

    // Nothing of the tour's is left: as many items as before (the tour's keys are random, so they are counted,
    // not named; the live keys are listed when the count is off).
    const itemsAfter = await currItems(address);
    expect(itemsAfter, `items left on the server: ${(await liveKeys(address)).join(', ')}`).toBe(itemsBefore);
    expect(await getForeign(address, 'someone-elses:config')).toBe('keep me');
    expect(await getForeign(address, 'someone-elses:session')).toBe('{"user":42}');
    expect(await app.keys('app')).toEqual(['profile']);
    expect(await app.query('profile', { ns: 'app' })).toBe('Ada');
    await app.close();
    expect(output).toContain(`lovely-memcached tour against memcached at ${address}`);
    expect(output).toContain("→ 'cached value'"); // it did run, against that server
    expect(output).toMatch(/invalidateAll\(\).*skipped/);
    // The outage's warning, explained where it happens (issue 23.12).
    expect(output).toMatch(
      /cache\.servers = \['127\.0\.0\.1:1'\][\s\S]*what a wrong address looks like[^\n]*\n {4}→ 'LovelyMemcachedWarning: [^\n]*unreachable since start/,
    );
    expect(output.trim().endsWith('Done.')).toBe(true);
  }, 60_000);

  it('flushes the server only when asked to with TOUR_FLUSH=1, and says so', async () => {
    await setForeign(address, 'someone-elses:config', 'keep me');
    const output = await tour(address, { TOUR_FLUSH: '1' });
    expect(output).toMatch(/TOUR_FLUSH=1.*every key/);
    expect(output).toContain('await cache.invalidateAll()');
    expect(await getForeign(address, 'someone-elses:config')).toBeUndefined();
  }, 60_000);
});
