/**
 * What `npm run bench` and `npm run soak` share before anything heavy happens: reading the command line (so
 * `--help` and a mistyped option answer at once, without a build), building the packages the benchmarks import,
 * and where results go.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const bench = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Results of a run: a scratch folder (gitignored) unless `--save` asks for the committed bench/results/. */
export function resultsFolder(save: boolean): string {
  return join(bench, save ? 'results' : '.results');
}

/**
 * The options of a command line, or the process ends: with the usage on stdout for `--help` (exit 0), on
 * stderr after the error for anything it does not know (exit 2).
 */
export function readCommandLine<const Names extends string>(
  argv: readonly string[],
  usage: string,
  flags: readonly Names[],
  positionals = 0,
): { flags: Record<Names, boolean>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(['help', ...flags].map((name) => [name, { type: 'boolean' }])),
      allowPositionals: true,
      strict: true,
    });
    if (parsed.positionals.length > positionals) {
      throw new Error(`unexpected argument '${parsed.positionals[positionals]}'`);
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (parsed.values.help === true) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const values = Object.fromEntries(flags.map((name) => [name, parsed.values[name] === true]));
  return { flags: values as Record<Names, boolean>, positionals: parsed.positionals };
}

/** Builds the packages the benchmarks import (they measure the built code, as users get it). */
export function buildPackages(): void {
  process.stderr.write('building the packages (turbo run build)\n');
  execFileSync(
    'pnpm',
    [
      '--silent',
      'turbo',
      'run',
      'build',
      '--filter=@lovely-memcached/bench^...',
      '--output-logs=errors-only',
    ],
    { cwd: join(bench, '..'), stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
  );
}
