/**
 * What the registry will get from each package's package.json (#16.9): the license text, where the code and the
 * issues live, core as a peer dependency (one copy of core and of its `Transport` type in a user's install), and
 * exports without the workspace-only `@lovely-memcached/source` condition (pnpm pack and publish replace
 * `exports` with `publishConfig.exports`). The tarballs themselves are checked by consumer.integration.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REPOSITORY = 'https://github.com/lovely-memcached/lovely-memcached';
const CORE = '@lovely-memcached/core';
const SOURCE_CONDITION = '@lovely-memcached/source';

interface Manifest {
  name: string;
  private?: boolean;
  license?: string;
  repository?: { type?: string; url?: string; directory?: string };
  homepage?: string;
  bugs?: { url?: string };
  keywords?: string[];
  files?: string[];
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  publishConfig?: { access?: string; exports?: unknown };
}

const packages = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest,
  }))
  .filter(({ manifest }) => !manifest.private);

/** The exports map with the source condition taken out, at every level. */
function withoutSourceCondition(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([condition]) => condition !== SOURCE_CONDITION)
      .map(([condition, target]) => [condition, withoutSourceCondition(target)]),
  );
}

/** Every path the source condition points at. */
function sourceTargets(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([condition, target]) =>
    condition === SOURCE_CONDITION && typeof target === 'string' ? [target] : sourceTargets(target),
  );
}

const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');

describe('package manifests, as published', () => {
  it('finds the packages', () => {
    expect(packages.map((p) => p.manifest.name)).toEqual(
      expect.arrayContaining([
        CORE,
        '@lovely-memcached/events',
        '@lovely-memcached/testing',
        '@lovely-memcached/transport-memjs',
        '@lovely-memcached/transport-memory',
      ]),
    );
  });

  it('the root LICENSE is the Zope Public License 2.1 with a copyright notice', () => {
    expect(rootLicense).toMatch(/^Copyright \(c\) /);
    expect(rootLicense).toContain('Zope Public License (ZPL) Version 2.1');
    expect(rootLicense).toContain('THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS');
  });

  describe.each(packages.map((p) => [p.dir, p] as const))('packages/%s', (dir, { manifest }) => {
    it('ships the license, its README and its CHANGELOG', () => {
      expect(manifest.license).toBe('ZPL-2.1');
      expect(readFileSync(join(root, 'packages', dir, 'LICENSE'), 'utf8')).toBe(rootLicense);
      expect(manifest.files).toEqual(
        expect.arrayContaining(['dist', 'README.md', 'LICENSE', 'CHANGELOG.md']),
      );
      const changelog = readFileSync(join(root, 'packages', dir, 'CHANGELOG.md'), 'utf8');
      expect(changelog.split('\n')[0]).toBe(`# ${manifest.name}`);
      expect(changelog).toMatch(/^## \d+\.\d+\.\d+/m);
    });

    it('says where its code, home page and issues are, and how to find it', () => {
      expect(manifest.repository).toEqual({
        type: 'git',
        url: `git+${REPOSITORY}.git`,
        directory: `packages/${dir}`,
      });
      expect(manifest.homepage).toBe(`${REPOSITORY}/tree/main/packages/${dir}#readme`);
      expect(manifest.bugs).toEqual({ url: `${REPOSITORY}/issues` });
      expect(manifest.keywords?.length).toBeGreaterThan(0);
    });

    if (dir !== 'core') {
      it('takes core as a peer dependency, never as its own copy', () => {
        expect(manifest.dependencies?.[CORE]).toBeUndefined();
        expect(manifest.peerDependencies?.[CORE]).toBe('workspace:^');
        expect(manifest.devDependencies?.[CORE]).toBe('workspace:^');
      });
    }

    it('publishes its exports without the workspace-only source condition, which points at existing files', () => {
      expect(manifest.publishConfig?.access).toBe('public');
      expect(manifest.publishConfig?.exports).toEqual(withoutSourceCondition(manifest.exports));
      expect(JSON.stringify(manifest.publishConfig?.exports)).not.toContain(SOURCE_CONDITION);
      const targets = sourceTargets(manifest.exports);
      expect(targets.length).toBeGreaterThan(0);
      for (const target of targets)
        expect(existsSync(join(root, 'packages', dir, target)), target).toBe(true);
    });
  });
});
