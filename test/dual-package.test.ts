/**
 * The built packages, as npm users get them: ESM and CJS entry points with types, and no dual-package hazard
 * where it matters (error checks and the shared defaultBus work when both copies are loaded in one process).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (pkg: string, file: string) => join(root, 'packages', pkg, 'dist', file);
const require = createRequire(import.meta.url);

beforeAll(() => {
  // `npm test` builds first; a bare `vitest run` builds the two packages this test reads.
  for (const pkg of ['core', 'events']) {
    if (!existsSync(dist(pkg, 'index.cjs')))
      execFileSync('pnpm', ['--filter', `@lovely-memcached/${pkg}...`, 'build'], { cwd: root });
  }
}, 120_000);

describe('published builds', () => {
  it('every package ships ESM, CJS and types through its exports map', async () => {
    for (const pkg of ['core', 'transport-memory', 'transport-memjs', 'events', 'testing']) {
      const manifest = require(join(root, 'packages', pkg, 'package.json'));
      expect(manifest.sideEffects).toBe(false);
      expect(manifest.exports['.'].import.default).toBe('./dist/index.js');
      expect(manifest.exports['.'].require.default).toBe('./dist/index.cjs');
      expect(manifest.exports['.'].import.types).toBe('./dist/index.d.ts');
    }
  });

  it('errors thrown by the CJS copy are recognised by the ESM copy, and the other way round', async () => {
    const esm = await import(pathToFileURL(dist('core', 'index.js')).href);
    const cjs = require(dist('core', 'index.cjs'));
    expect(esm.CacheError).not.toBe(cjs.CacheError);
    const fromCjs = new cjs.InvalidKeyError('bad');
    expect(fromCjs instanceof esm.InvalidKeyError).toBe(true);
    expect(fromCjs instanceof esm.CacheError).toBe(true);
    expect(fromCjs instanceof esm.KeyTrackingDisabledError).toBe(false);
    expect(new esm.KeyTrackingDisabledError() instanceof cjs.CacheError).toBe(true);
  });

  it('the ESM and CJS copies share one defaultBus', () => {
    // In a plain node: vitest's workers resolve with the source condition, under which the CJS copy's
    // require('@lovely-memcached/core') would load core's TypeScript source instead of its build.
    const script = `
      const esm = await import(${JSON.stringify(pathToFileURL(dist('events', 'index.js')).href)});
      const { createRequire } = await import('node:module');
      const cjs = createRequire(import.meta.url)(${JSON.stringify(dist('events', 'index.cjs'))});
      console.log(esm.defaultBus === cjs.defaultBus && esm.InvalidationBus !== cjs.InvalidationBus);`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(output.trim()).toBe('true');
  });
});
