/**
 * Typechecks README samples in one TypeScript program (one compiler run for all of them, not one per block).
 *
 * Each block is written to its own module under `<root>/.docs-check/<run>/`, inside the repository so that its
 * imports of `@lovely-memcached/*` resolve like a user's would here, to the packages' sources through the
 * `@lovely-memcached/source` condition. The compiler options are the repository's (tsconfig.base.json).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import type { ReadmeBlock } from './readme-blocks';

export interface WrittenBlock {
  block: ReadmeBlock;
  file: string;
}

export interface CheckFolder {
  directory: string;
  written: WrittenBlock[];
  remove(): void;
}

/** Writes every block as a module (`export {}` added, so top-level await works in blocks without imports). */
export function writeBlocks(root: string, blocks: readonly ReadmeBlock[]): CheckFolder {
  const parent = join(root, '.docs-check');
  mkdirSync(parent, { recursive: true });
  // The folder ignores itself, so a run that dies before removing it leaves nothing for git to show.
  writeFileSync(join(parent, '.gitignore'), '*\n');
  const directory = join(parent, `run-${process.pid}`);
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory);
  const written = blocks.map((block) => {
    const name = `${block.readme.replace(/[/\\]/g, '__').replace(/\.md$/i, '')}--block-${block.index}.ts`;
    const file = join(directory, name);
    writeFileSync(file, `${block.code}\nexport {};\n`);
    return { block, file };
  });
  return { directory, written, remove: () => rmSync(directory, { recursive: true, force: true }) };
}

/** The compiler messages of each written block, as `README.md:LINE: message` (LINE in the README). */
export function typecheckBlocks(root: string, written: readonly WrittenBlock[]): Map<WrittenBlock, string[]> {
  const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), (path) => ts.sys.readFile(path));
  if (base.error) throw new Error(ts.flattenDiagnosticMessageText(base.error.messageText, '\n'));
  const { options, errors } = ts.parseJsonConfigFileContent(
    { ...base.config, compilerOptions: { ...base.config.compilerOptions, noEmit: true } },
    ts.sys,
    root,
  );
  if (errors.length > 0)
    throw new Error(errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'));
  options.customConditions = ['@lovely-memcached/source'];

  const program = ts.createProgram(
    written.map((w) => w.file),
    options,
  );
  const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  if (global.length > 0) {
    throw new Error(global.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  }
  const messages = new Map<WrittenBlock, string[]>();
  for (const entry of written) {
    const source = program.getSourceFile(entry.file);
    if (source === undefined) throw new Error(`the compiler did not read ${entry.file}`);
    const diagnostics =
      entry.block.mode === 'fragment'
        ? program.getSyntacticDiagnostics(source)
        : [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    messages.set(
      entry,
      diagnostics.map((diagnostic) => {
        const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
        if (diagnostic.start === undefined) return `${entry.block.readme}: ${text}`;
        const { line, character } = source.getLineAndCharacterOfPosition(diagnostic.start);
        return `${entry.block.readme}:${entry.block.line + line}:${character + 1}: TS${diagnostic.code}: ${text}`;
      }),
    );
  }
  return messages;
}
