/**
 * The TypeScript samples of the repository's READMEs, found and cut out for the docs test (test/docs.test.ts).
 *
 * A sample is a fenced block whose info string starts with `ts` or `typescript`. Words after the language mark
 * what the test does with it:
 *   ```ts             typechecked as a module of its own (it must import what it uses)
 *   ```ts runnable    typechecked and run; it must exit by itself (close its clients). It reads the memcached
 *                     address as `process.env.MEMCACHED_SERVERS ?? '127.0.0.1:11211'`; the test starts one.
 *   ```ts fragment    a deliberate excerpt: only its syntax is checked
 * GitHub and the npm site take the first word as the language, so the marks do not show.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export type BlockMode = 'typecheck' | 'runnable' | 'fragment';

export interface ReadmeBlock {
  /** The README, relative to the repository root (`packages/core/README.md`). */
  readme: string;
  /** 1-based, among the TypeScript blocks of that README. */
  index: number;
  /** The README line of the block's first line of code. */
  line: number;
  mode: BlockMode;
  code: string;
}

const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', 'coverage']);

/** Every README.md of the repository: the root's and any in folders below it (packages, examples, ...). */
export function findReadmes(root: string, depth = 3): string[] {
  const found: string[] = [];
  const walk = (directory: string, level: number) => {
    const readme = join(directory, 'README.md');
    if (existsSync(readme)) found.push(relative(root, readme));
    if (level === depth) return;
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.') || SKIPPED_DIRECTORIES.has(entry.name)) continue;
      walk(join(directory, entry.name), level + 1);
    }
  };
  walk(root, 0);
  return found.sort();
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/;
const TYPESCRIPT = new Set(['ts', 'typescript']);
const MODES = new Set<string>(['runnable', 'fragment']);

/** The TypeScript blocks of one README's text. An unknown mark is an error, so a typo cannot skip a check. */
export function extractBlocks(readme: string, markdown: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = markdown.split('\n');
  let open: { fence: string; typescript: boolean; mode: BlockMode; line: number; code: string[] } | undefined;
  lines.forEach((text, i) => {
    const match = FENCE.exec(text);
    if (open === undefined) {
      if (!match) return;
      const [, , fence = '', language = '', rest = ''] = match;
      const words = rest.split(/\s+/).filter(Boolean);
      const typescript = TYPESCRIPT.has(language.toLowerCase());
      const unknown = words.filter((word) => !MODES.has(word));
      if (typescript && (unknown.length > 0 || words.length > 1)) {
        throw new Error(`${readme}:${i + 1}: unknown sample mark "${rest}" (use runnable or fragment)`);
      }
      open = {
        fence,
        typescript,
        mode: (words[0] as BlockMode | undefined) ?? 'typecheck',
        line: i + 2,
        code: [],
      };
      return;
    }
    if (match?.[2]?.startsWith(open.fence) && match[3] === '' && match[4] === '') {
      if (open.typescript) {
        blocks.push({
          readme,
          index: blocks.length + 1,
          line: open.line,
          mode: open.mode,
          code: open.code.join('\n'),
        });
      }
      open = undefined;
      return;
    }
    open.code.push(text);
  });
  if (open !== undefined) throw new Error(`${readme}:${open.line - 1}: a code block that is never closed`);
  return blocks;
}

export function readmeBlocks(root: string): ReadmeBlock[] {
  return findReadmes(root).flatMap((readme) =>
    extractBlocks(readme, readFileSync(join(root, readme), 'utf8')),
  );
}

const SHELL = new Set(['sh', 'bash', 'shell']);

/**
 * The shell commands of one section of a README (from its heading to the next heading of the same or a higher
 * level): each ```sh / ```bash / ```shell block, as its lines, comments and blank lines dropped. For tests that
 * run a README's commands as written (test/consumer/consumer.integration.test.ts).
 */
export function shellBlocks(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.replace(/^#+\s*/, '') === heading && /^#+ /.test(line));
  if (start === -1) throw new Error(`no heading "${heading}"`);
  const level = (lines[start] as string).indexOf(' ');
  const blocks: string[][] = [];
  let open: { fence: string; shell: boolean; lines: string[] } | undefined;
  for (const text of lines.slice(start + 1)) {
    const match = FENCE.exec(text);
    if (open === undefined) {
      const title = /^(#+) /.exec(text);
      if (title && (title[1] as string).length <= level) break;
      if (match)
        open = { fence: match[2] ?? '', shell: SHELL.has((match[3] ?? '').toLowerCase()), lines: [] };
      continue;
    }
    if (match?.[2]?.startsWith(open.fence) && match[3] === '' && match[4] === '') {
      if (open.shell) blocks.push(open.lines);
      open = undefined;
      continue;
    }
    const command = text.replace(/(^|\s)#.*$/, '').trim();
    if (command !== '') open.lines.push(command);
  }
  return blocks;
}
