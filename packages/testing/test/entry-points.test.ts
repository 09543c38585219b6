/**
 * What each entry point of @lovely-memcached/testing pulls in: the main entry must load under any test runner
 * (node --test, Jest, Mocha, from ESM and CommonJS), so nothing it imports, directly or through its own
 * files, may be a test runner; the contract suite, which registers vitest tests, lives at `./contract`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every bare specifier (a package, not a file of this package) that `entry` imports, followed through its files. */
function packagesImportedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(
      /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'([^']+)'|import\('([^']+)'\)/g,
    )) {
      const specifier = (match[1] ?? match[2]) as string;
      if (specifier.startsWith('.')) visit(`${resolve(dirname(file), specifier)}.ts`);
      else packages.add(specifier);
    }
  };
  visit(join(packageDir, 'src', entry));
  return packages;
}

const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));

describe('entry points of @lovely-memcached/testing', () => {
  it('the main entry imports no test runner, only core, the memory transport and node built-ins', () => {
    const imported = [...packagesImportedBy('index.ts')].filter((name) => !name.startsWith('node:'));
    expect(imported.sort()).toEqual(['@lovely-memcached/core', '@lovely-memcached/transport-memory']);
  });

  it('the contract suite, at ./contract, is the one that imports vitest', () => {
    expect(packagesImportedBy('describe-transport-contract.ts')).toContain('vitest');
    expect(manifest.exports['./contract']['@lovely-memcached/source']).toBe(
      './src/describe-transport-contract.ts',
    );
  });

  it('vitest is an optional peer dependency, never a dependency', () => {
    expect(manifest.dependencies?.vitest).toBeUndefined();
    expect(manifest.peerDependencies.vitest).toBeDefined();
    expect(manifest.peerDependenciesMeta?.vitest?.optional).toBe(true);
  });
});
