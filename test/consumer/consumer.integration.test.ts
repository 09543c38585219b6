/**
 * The packages as a user gets them (#14, #16.9, #23.1, #23.2): the root README's "Using it from another project"
 * commands run as written (`pnpm pack:all` packs every package with `pnpm pack`, which turns `workspace:^` into
 * version ranges and applies `publishConfig`; a fresh app beside the clone installs the tarballs with npm, third
 * parties from the registry), and the tarballs installed by npm into throwaway folders outside the workspace:
 *
 * - the README's commands give a working app: its first sample runs there against a real memcached;
 * - the install footprint of each package: what its tarball alone (with the @lovely-memcached tarballs it
 *   needs) brings into node_modules, checked against the root README's "Install footprint" table;
 * - every package loads with require() and import();
 * - @lovely-memcached/testing under `node --test` (ESM and CommonJS) where no test runner is installed, under
 *   Jest (a CommonJS project, default config, `jest.useFakeTimers()` with its defaults) where vitest is not
 *   installed, and its contract suite from `@lovely-memcached/testing/contract` under vitest over the memory
 *   transport;
 * - the production path, MemcachedClient + memjsTransport from ESM and CommonJS, against a real memcached, and
 *   both network transports under Jest's default fake timers.
 *
 * Needs the npm registry. Takes 1 to 3 minutes (more when the packages need building), most of it npm
 * installing Jest, vitest and the third-party dependencies.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractBlocks, shellBlocks } from '../support/readme-blocks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCOPE = '@lovely-memcached/';
const TEST_RUNNERS = ['vitest', '@vitest/runner', 'jest', 'jest-cli', '@jest/core', 'mocha', 'ava', 'tap'];
const JEST = 'jest@^30';
const VITEST = 'vitest@^4';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const packages = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest,
  }))
  .filter(({ manifest }) => !manifest.private);
const byName = new Map(packages.map((p) => [p.manifest.name, p]));

/** What npm installs for a package: its dependencies and its peers that are not optional. */
function installedWith(manifest: Manifest): string[] {
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter(
    (name) => !manifest.peerDependenciesMeta?.[name]?.optional,
  );
  return [...Object.keys(manifest.dependencies ?? {}), ...peers];
}

/** The package and every @lovely-memcached package it needs, directly or not (their tarballs go in together). */
function ownClosure(name: string, into = new Set<string>()): Set<string> {
  if (into.has(name)) return into;
  into.add(name);
  const found = byName.get(name);
  if (found === undefined) throw new Error(`${name} is not a package of this repository`);
  for (const dependency of installedWith(found.manifest))
    if (dependency.startsWith(SCOPE)) ownClosure(dependency, into);
  return into;
}

interface Run {
  code: number | null;
  output: string;
}

/** Runs a command, never throwing: the exit code and stdout + stderr, for assertions that show both. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...cleanEnv, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 300_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** The environment without what this test runner and pnpm set for themselves (a nested vitest must not see it). */
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !/^(VITEST|TINYPOOL|npm_|pnpm_|NODE_OPTIONS$|NODE_ENV$|TEST$)/i.test(name),
  ),
);

async function mustRun(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}:\n${result.output}`);
  return result.output;
}

/** The names of the packages in a node_modules folder, nested ones included. */
function installedPackages(nodeModules: string, found = new Set<string>()): Set<string> {
  if (!existsSync(nodeModules)) return found;
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const folders = entry.startsWith('@')
      ? readdirSync(join(nodeModules, entry)).map((name) => join(nodeModules, entry, name))
      : [join(nodeModules, entry)];
    for (const folder of folders) {
      const manifest = join(folder, 'package.json');
      if (!existsSync(manifest)) continue;
      found.add((JSON.parse(readFileSync(manifest, 'utf8')) as Manifest).name);
      installedPackages(join(folder, 'node_modules'), found);
    }
  }
  return found;
}

let work: string;
const tarballs = new Map<string, string>();
const footprintDir = (dir: string) => join(work, 'footprint', dir);
/** The README's folders: the clone (only its packs/ here: pack:all writes there) and the app beside it. */
const cloneDir = () => join(work, 'lovely-memcached');
const appDir = () => join(work, 'my-app');

const README = readFileSync(join(root, 'README.md'), 'utf8');
const [inTheClone = [], inTheApp = []] = shellBlocks(README, 'Using it from another project');
/**
 * The lines of the README's commands in the clone that this test does not run: cloning, and installing the
 * tools and dependencies, which the clone this test runs in has. Any other line is run as written.
 */
const NOT_RUN = [
  /^git clone https:\/\/github\.com\/lovely-memcached\/lovely-memcached && cd lovely-memcached$/,
  /^npm install -g pnpm@10$/,
  /^pnpm install$/,
];

/** Runs README lines in bash, as a reader would paste them, stopping at the first that fails. */
async function runReadmeLines(lines: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await run('bash', ['-euo', 'pipefail', '-c', lines.join('\n')], cwd, env);
  if (result.code !== 0)
    throw new Error(
      `README commands (in ${cwd}) exited ${result.code}:\n${lines.join('\n')}\n${result.output}`,
    );
  return result.output;
}
let memcached: RunningMemcached | undefined;

/** A folder with a package.json, and npm install of the given specs (tarball paths or registry ranges). */
async function install(folder: string, specs: string[]): Promise<void> {
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true }, null, 2)}\n`,
  );
  await mustRun(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs],
    folder,
  );
}

/** Runs the jobs at most `limit` at a time (the machine has 2 cores; npm mostly waits on the network). */
async function inTurns(jobs: Array<() => Promise<void>>, limit: number): Promise<void> {
  const queue = [...jobs];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) await job();
    }),
  );
}

const tarballsOf = (name: string) => [...ownClosure(name)].map((n) => tarballs.get(n) as string);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lovely-memcached-consumer-'));
  // The README's commands in the clone: pack:all into the packs/ folder of a "clone" beside the app, so the
  // app's command finds them where the README says (PACKS_DIR; pack:all writes into the repository otherwise).
  const packs = join(cloneDir(), 'packs');
  mkdirSync(packs, { recursive: true });
  await runReadmeLines(
    inTheClone.filter((line) => !NOT_RUN.some((skipped) => skipped.test(line))),
    root,
    { PACKS_DIR: packs },
  );
  for (const { manifest } of packages) {
    const file = join(packs, `${manifest.name.slice(1).replace('/', '-')}-${manifest.version}.tgz`);
    if (!existsSync(file)) throw new Error(`pnpm pack:all made no ${file}`);
    tarballs.set(manifest.name, file);
  }
  await inTurns(
    [
      // The README's commands in the app, from the clone's folder: they make my-app beside it.
      async () => {
        await runReadmeLines(inTheApp, cloneDir());
      },
      ...packages.map(
        ({ dir, manifest }) =>
          () =>
            install(footprintDir(dir), tarballsOf(manifest.name)),
      ),
      () =>
        install(join(work, 'jest-app'), [
          ...new Set([
            ...tarballsOf(`${SCOPE}testing`),
            ...tarballsOf(`${SCOPE}transport-memjs`),
            ...tarballsOf(`${SCOPE}transport-meta`),
          ]),
          JEST,
        ]),
      () =>
        install(join(work, 'vitest-app'), [
          ...new Set([...tarballsOf(`${SCOPE}testing`), ...tarballsOf(`${SCOPE}transport-memory`)]),
          VITEST,
        ]),
    ],
    3,
  );
}, 600_000);

afterAll(async () => {
  await memcached?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the root README's commands, as written", () => {
  it('run in the clone all but the clone, the global pnpm and pnpm install', () => {
    const notRun = inTheClone.filter((line) => NOT_RUN.some((skipped) => skipped.test(line)));
    expect(notRun, 'a line the test skips is gone from the README: update NOT_RUN').toHaveLength(
      NOT_RUN.length,
    );
    expect(inTheClone).toContain('pnpm pack:all');
    expect(inTheApp.join('\n')).toMatch(/npm install \S*packs\/\*\.tgz/);
  });

  it('give an app beside the clone with every package, where the first sample runs as written', async () => {
    const installed = [...installedPackages(join(appDir(), 'node_modules'))];
    for (const { manifest } of packages) expect(installed).toContain(manifest.name);
    const sample = extractBlocks('README.md', README).find((block) => block.mode === 'runnable');
    expect(sample?.code).toContain("from '@lovely-memcached/transport-memjs'");
    writeFileSync(join(appDir(), 'app.mjs'), sample?.code ?? '');
    memcached ??= await startMemcached();
    const result = await run(process.execPath, ['app.mjs'], appDir(), {
      MEMCACHED_SERVERS: memcached.servers.join(','),
    });
    expect(result, result.output).toMatchObject({ code: 0 });
    expect(result.output).toBe('36f267c23c6ad6d47774aa4b0b4a6d85 cached value\nundefined\n');
  });
});

/** Third-party packages a footprint folder holds (ours left out), sorted. */
const thirdParty = (dir: string) =>
  [...installedPackages(join(footprintDir(dir), 'node_modules'))].filter((n) => !n.startsWith(SCOPE)).sort();

describe('install footprint: what npm install of one package brings into node_modules', () => {
  it('core brings nothing, transport-memjs only memjs, events only mitt, testing no test runner', () => {
    expect(thirdParty('core')).toEqual([]);
    expect(thirdParty('transport-memjs')).toEqual(['memjs']);
    expect(thirdParty('events')).toEqual(['mitt']);
    expect(thirdParty('testing')).toEqual([]);
    expect(thirdParty('testing').filter((name) => TEST_RUNNERS.includes(name))).toEqual([]);
    // core is a peer: one copy, at the top, next to each package that takes it
    for (const dir of ['transport-memjs', 'events', 'testing']) {
      expect(
        [...installedPackages(join(footprintDir(dir), 'node_modules'))].filter((n) => n === `${SCOPE}core`),
      ).toEqual([`${SCOPE}core`]);
    }
  });

  it("matches the root README's Install footprint table, for every package", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((part) => part.startsWith('Install footprint'));
    expect(section, 'README.md has no "## Install footprint" section').toBeDefined();
    const rows = new Map(
      [...(section ?? '').matchAll(/^\| `(@lovely-memcached\/[^`]+)` \| (.+?) \|$/gm)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    for (const { dir, manifest } of packages) {
      const measured = thirdParty(dir);
      const direct = installedWith(manifest)
        .filter((name) => !name.startsWith(SCOPE))
        .sort();
      const row = rows.get(manifest.name);
      expect(
        row,
        `README.md Install footprint: no row for ${manifest.name} (it brings ${measured.join(', ')})`,
      ).toBeDefined();
      const named = [...(row ?? '').matchAll(/`([^`]+)`/g)]
        .map((m) => m[1] as string)
        .filter((name) => !name.startsWith(SCOPE))
        .sort();
      const what = `README row of ${manifest.name}: "${row}"; it brings in ${measured.join(', ') || 'nothing'}`;
      expect(measured, what).toEqual(expect.arrayContaining(direct));
      if (measured.length === direct.length) {
        // All it brings are its own direct dependencies: the row names exactly those, or says nothing.
        expect(named, what).toEqual(measured);
        if (measured.length === 0) expect(row, what).toMatch(/^nothing\b/);
      } else {
        // Its dependencies have dependencies of their own, which change with their releases: the row names the
        // direct ones and how many packages there were in all when it was written.
        expect(named, what).toEqual(direct);
        expect(row, what).toMatch(/\d+ packages in all/);
      }
    }
  });
});

describe('every package, installed from its tarball', () => {
  it.each(packages.map((p) => [p.manifest.name, p.dir] as const))(
    '%s loads with require() and import()',
    async (name, dir) => {
      const cjs = await run(
        process.execPath,
        ['-e', `console.log(Object.keys(require(${JSON.stringify(name)})).length)`],
        footprintDir(dir),
      );
      expect(cjs, cjs.output).toMatchObject({ code: 0 });
      expect(Number(cjs.output.trim())).toBeGreaterThan(0);
      const esm = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `console.log(Object.keys(await import(${JSON.stringify(name)})).length)`,
        ],
        footprintDir(dir),
      );
      expect(esm, esm.output).toMatchObject({ code: 0 });
      expect(Number(esm.output.trim())).toBe(Number(cjs.output.trim()));
    },
  );

  it('@lovely-memcached/testing has no source condition or src/ in the tarball', () => {
    const installed = join(footprintDir('testing'), 'node_modules', '@lovely-memcached', 'testing');
    expect(readFileSync(join(installed, 'package.json'), 'utf8')).not.toContain('@lovely-memcached/source');
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(existsSync(join(installed, 'LICENSE'))).toBe(true);
  });
});

const NODE_TEST_BODY = (label: string) => `
test('${label}: TestMemcachedClient stores and reads back; a server taken down reads as a miss', async () => {
  const cache = new TestMemcachedClient();
  await cache.set('k', 'v');
  assert.equal(await cache.query('k'), 'v');
  cache.memory.down('127.0.0.1:11211');
  assert.equal(await cache.query('k'), undefined);
  cache.memory.up('127.0.0.1:11211');
  assert.equal(await cache.query('k'), 'v');
  await cache.close();
});

test('${label}: chaosTransport fails calls on purpose, without throwing', async () => {
  const chaos = chaosTransport(memoryTransport(), { fail: 1 });
  const cache = new TestMemcachedClient({ transport: chaos });
  assert.equal(await cache.set('k', 'v'), null);
  assert.ok(chaos.counts.fail > 0);
  await cache.close();
});
`;

describe('@lovely-memcached/testing under other test runners', () => {
  it('node --test, from ESM and from CommonJS, with no test runner installed', async () => {
    const folder = footprintDir('testing');
    expect(existsSync(join(folder, 'node_modules', 'vitest'))).toBe(false);
    writeFileSync(
      join(folder, 'client.test.mjs'),
      `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestMemcachedClient, chaosTransport } from '@lovely-memcached/testing';
import { memoryTransport } from '@lovely-memcached/transport-memory';
${NODE_TEST_BODY('esm')}`,
    );
    writeFileSync(
      join(folder, 'client.test.cjs'),
      `const assert = require('node:assert/strict');
const { test } = require('node:test');
const { TestMemcachedClient, chaosTransport } = require('@lovely-memcached/testing');
const { memoryTransport } = require('@lovely-memcached/transport-memory');
${NODE_TEST_BODY('cjs')}`,
    );
    const result = await run(
      process.execPath,
      ['--test', '--test-reporter=tap', 'client.test.mjs', 'client.test.cjs'],
      folder,
    );
    expect(result, result.output).toMatchObject({ code: 0 });
    expect(result.output).toMatch(/^# pass 4$/m);
    expect(result.output).toMatch(/^# fail 0$/m);
    for (const label of ['esm', 'cjs'])
      expect(result.output).toMatch(
        new RegExp(`^ok \\d+ - ${label}: TestMemcachedClient stores and reads back`, 'm'),
      );
  });

  it('Jest: a CommonJS project with the default config and default fake timers, vitest not installed', async () => {
    memcached ??= await startMemcached();
    const folder = join(work, 'jest-app');
    expect(existsSync(join(folder, 'node_modules', 'vitest'))).toBe(false);
    writeFileSync(
      join(folder, 'client.test.js'),
      `const { MemcachedClient } = require('@lovely-memcached/core');
const { TestMemcachedClient } = require('@lovely-memcached/testing');
const { memjsTransport } = require('@lovely-memcached/transport-memjs');
const { metaTransport } = require('@lovely-memcached/transport-meta');

test('jest: TestMemcachedClient stores; a server taken down reads as a miss', async () => {
  const cache = new TestMemcachedClient({ trackKeys: true });
  await cache.set('k', 'v');
  expect(await cache.query('k')).toBe('v');
  expect(await cache.keys()).toEqual(['k']);
  cache.memory.down('127.0.0.1:11211');
  expect(await cache.query('k')).toBeUndefined();
  cache.memory.up('127.0.0.1:11211');
  await cache.close();
});

describe('jest.useFakeTimers() with its defaults (queueMicrotask, nextTick and setImmediate faked too)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('jest: an entry set with a lifetime is gone once the fake clock moved past it', async () => {
    const cache = new TestMemcachedClient();
    await cache.set('k', 'v', { lifetime: 1 });
    jest.advanceTimersByTime(900);
    expect(await cache.query('k')).toBe('v');
    expect(await Promise.all([cache.query('k'), cache.query('other')])).toEqual(['v', undefined]);
    expect(await cache.getOrSet('g', async () => 'computed', { lifetime: 1 })).toBe('computed');
    jest.advanceTimersByTime(200);
    expect(await cache.query('k')).toBeUndefined();
    await cache.close();
  });

  test.each([
    ['memjs', memjsTransport],
    ['meta', metaTransport],
  ])('jest: %s transport against a real memcached, the clock standing still', async (_name, transport) => {
    const cache = new MemcachedClient({ transport: transport(), servers: process.env.MEMCACHED_SERVERS });
    await cache.set('k', 'v');
    expect(await cache.query('k')).toBe('v');
    await Promise.all([cache.set('a', 1), cache.set('b', 2), cache.set('c', 3)]);
    expect(await Promise.all([cache.query('a'), cache.query('b'), cache.query('c')])).toEqual([1, 2, 3]);
    await cache.close();
  });
});
`,
    );
    const result = await run(
      process.execPath,
      [join(folder, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--testTimeout=10000'],
      folder,
      { MEMCACHED_SERVERS: memcached.servers.join(',') },
    );
    expect(result, result.output).toMatchObject({ code: 0 });
    expect(result.output).toMatch(/Tests:\s+4 passed, 4 total/);
  });

  it('vitest: describeTransportContract from @lovely-memcached/testing/contract over memoryTransport', async () => {
    const folder = join(work, 'vitest-app');
    writeFileSync(
      join(folder, 'contract.test.mjs'),
      `import { describeTransportContract } from '@lovely-memcached/testing/contract';
import { memoryTransport } from '@lovely-memcached/transport-memory';

let offset = 0;
const memory = memoryTransport({ now: () => Date.now() + offset });

describeTransportContract('memory from the tarballs', () => memory(['127.0.0.1:11211']), {
  advanceTime: (ms) => {
    offset += ms;
  },
  now: () => Date.now() + offset,
  makeUnreachableTransport: () => {
    memory.down('127.0.0.1:1');
    return memory(['127.0.0.1:1']);
  },
});
`,
    );
    const report = join(folder, 'report.json');
    const result = await run(
      process.execPath,
      [
        join(folder, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${report}`,
      ],
      folder,
    );
    expect(result, result.output).toMatchObject({ code: 0 });
    const json = JSON.parse(readFileSync(report, 'utf8'));
    expect(json.numFailedTests).toBe(0);
    expect(json.numPassedTests).toBeGreaterThanOrEqual(50);
    const titles = json.testResults.flatMap(
      (file: { assertionResults: Array<{ ancestorTitles: string[] }> }) =>
        file.assertionResults.map((test) => test.ancestorTitles.join(' > ')),
    );
    expect(titles).toContain('transport contract: memory from the tarballs > unreachable server');
    expect(titles).toContain('transport contract: memory from the tarballs > expiry');
  });
});

describe('production: MemcachedClient + memjsTransport from the tarballs, against a real memcached', () => {
  const program = (label: string) => `
  const cache = new MemcachedClient({ servers: process.env.MEMCACHED_SERVERS, transport: memjsTransport() });
  const key = await cache.set('consumer:${label}', 'from ${label}');
  console.log(JSON.stringify({ key, value: await cache.query('consumer:${label}') }));
  await cache.close();
`;

  it.each([
    [
      'esm',
      'prod.mjs',
      `import { MemcachedClient } from '@lovely-memcached/core';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
${program('esm')}`,
    ],
    [
      'cjs',
      'prod.cjs',
      `const { MemcachedClient } = require('@lovely-memcached/core');
const { memjsTransport } = require('@lovely-memcached/transport-memjs');
(async () => {${program('cjs')}})();
`,
    ],
  ])('%s', async (label, file, source) => {
    memcached ??= await startMemcached();
    const folder = footprintDir('transport-memjs');
    writeFileSync(join(folder, file), source);
    const result = await run(process.execPath, [file], folder, {
      MEMCACHED_SERVERS: memcached.servers.join(','),
    });
    expect(result, result.output).toMatchObject({ code: 0 });
    const printed = JSON.parse(result.output.trim().split('\n').at(-1) ?? '{}');
    expect(printed.value).toBe(`from ${label}`);
    expect(printed.key).toMatch(/^[0-9a-f]{32}$/);
  });
});
