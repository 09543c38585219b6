/**
 * Every TypeScript sample of every README runs as written: each one typechecks on its own (it imports what it
 * uses, defines what it names), and the ones marked ```ts runnable run to the end and exit by themselves against
 * a memcached this test starts. See test/support/readme-blocks.ts for the marks.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractBlocks, findReadmes, readmeBlocks } from './support/readme-blocks';
import {
  type CheckFolder,
  typecheckBlocks,
  type WrittenBlock,
  writeBlocks,
} from './support/typecheck-blocks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
/** A runnable sample that has not exited by then is taken to hang (a client left open, a timer, a socket). */
const EXIT_WITHIN_MS = 15_000;

const blocks = readmeBlocks(root);
const name = (w: { block: { readme: string; index: number; line: number } }) =>
  `${w.block.readme} block ${w.block.index} (line ${w.block.line})`;

let folder: CheckFolder;
let messages: Map<WrittenBlock, string[]>;
let memcached: RunningMemcached | undefined;

beforeAll(() => {
  folder = writeBlocks(root, blocks);
  messages = typecheckBlocks(root, folder.written);
}, 120_000);

afterAll(async () => {
  folder?.remove();
  await memcached?.stop();
});

describe('README samples', () => {
  it('are found in the root README and every package README', () => {
    const readmes = new Set(blocks.map((b) => b.readme));
    for (const readme of [
      'README.md',
      'packages/core/README.md',
      'packages/events/README.md',
      'packages/transport-memjs/README.md',
      'packages/transport-memory/README.md',
    ]) {
      expect(readmes, `no TypeScript sample found in ${readme}`).toContain(readme);
    }
    // The marked-as-excerpt escape hatch stays small: samples are meant to be whole programs.
    expect(blocks.filter((b) => b.mode === 'fragment').length).toBeLessThanOrEqual(3);
  });

  describe.each(
    blocks.map((block, i) => [`${block.readme} block ${block.index} (line ${block.line})`, i] as const),
  )('%s', (_title, i) => {
    const written = () => folder.written[i] as WrittenBlock;

    it('typechecks', () => {
      const errors = messages.get(written()) ?? [];
      expect(errors, `${name(written())} does not typecheck:\n${errors.join('\n')}`).toEqual([]);
    });

    if (blocks[i]?.mode === 'runnable') {
      it(
        'runs and exits by itself',
        async () => {
          memcached ??= await startMemcached();
          const file = written().file;
          const result = await new Promise<{ code: number | null; signal: string | null; output: string }>(
            (resolve) => {
              const child = execFile(
                tsx,
                ['--conditions=@lovely-memcached/source', relative(root, file)],
                {
                  cwd: root,
                  env: { ...process.env, MEMCACHED_SERVERS: memcached?.servers.join(','), NODE_OPTIONS: '' },
                  timeout: EXIT_WITHIN_MS,
                  killSignal: 'SIGKILL',
                  encoding: 'utf8',
                },
                (_error, stdout, stderr) =>
                  resolve({ code: child.exitCode, signal: child.signalCode, output: stdout + stderr }),
              );
            },
          );
          const what =
            result.signal === 'SIGKILL'
              ? `did not exit within ${EXIT_WITHIN_MS / 1000} s (a client not closed?)`
              : `exited with code ${result.code}`;
          expect(
            { code: result.code, signal: result.signal },
            `${name(written())} ${what}:\n${result.output}`,
          ).toEqual({
            code: 0,
            signal: null,
          });
        },
        EXIT_WITHIN_MS + 10_000,
      );
    }
  });
});

/** Where package READMEs link into this repository; the npm site shows them away from it. */
const REPOSITORY = 'https://github.com/lovely-memcached/lovely-memcached/';
/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

describe('package READMEs (read on the registry site, where relative links lead nowhere)', () => {
  const packageReadmes = findReadmes(root).filter((readme) => readme.startsWith('packages/'));

  it.each(packageReadmes)('%s links with absolute addresses, to files and headings that exist', (readme) => {
    const links = [...readFileSync(join(root, readme), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)].map(
      (m) => m[1] ?? '',
    );
    const broken = links.filter((link) => {
      if (/^(mailto:|#)/.test(link)) return false;
      if (!/^https?:\/\//.test(link)) return true; // relative: works on GitHub only
      if (!link.startsWith(REPOSITORY)) return false;
      const [path = '', fragment] = link
        .slice(REPOSITORY.length)
        .replace(/^(blob|tree)\/main\//, '')
        .split('#');
      if (!existsSync(join(root, path))) return true;
      if (fragment === undefined) return false;
      const headings = [...readFileSync(join(root, path), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) =>
        anchor(m[1] ?? ''),
      );
      return !headings.includes(fragment);
    });
    expect(broken, `${readme}: relative or broken links`).toEqual([]);
  });
});

describe('extracting samples', () => {
  const markdown = [
    '# t', //                                   line 1
    '```sh',
    'npm test',
    '```',
    '```ts', //                                 line 5
    "const a: number = 'x';",
    '```',
    '````md', //                                line 8: a longer fence shows a fence inside
    '```ts',
    'not a sample',
    '```',
    '````',
    '```typescript runnable', //                line 13
    'await Promise.resolve();',
    '```',
    '```ts fragment',
    'x.y();',
    '```',
  ].join('\n');

  it('takes ts and typescript blocks with their mark and README line, nothing else', () => {
    expect(extractBlocks('R.md', markdown)).toEqual([
      { readme: 'R.md', index: 1, line: 6, mode: 'typecheck', code: "const a: number = 'x';" },
      { readme: 'R.md', index: 2, line: 14, mode: 'runnable', code: 'await Promise.resolve();' },
      { readme: 'R.md', index: 3, line: 17, mode: 'fragment', code: 'x.y();' },
    ]);
  });

  it('refuses an unknown mark and an unclosed block, naming the line', () => {
    expect(() => extractBlocks('R.md', '```ts runable\nx\n```')).toThrow(
      'R.md:1: unknown sample mark "runable"',
    );
    expect(() => extractBlocks('R.md', 'a\n```ts\nx')).toThrow('R.md:2: a code block that is never closed');
  });
});
