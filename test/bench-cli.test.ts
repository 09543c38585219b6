/**
 * The benchmark commands' command line: `--help` and a mistyped option answer at once (no build, no memcached,
 * no three-minute run), and results land in a scratch folder unless `--save` asks for the committed one.
 */
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resultsFolder } from '../bench/src/cli';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `npm run --silent <script> -- <args>` from the repository root; a run still going after 30 s is killed. */
function npmRun(script: string, args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      'npm',
      ['run', '--silent', script, '--', ...args],
      { cwd: root, timeout: 30_000, killSignal: 'SIGKILL', encoding: 'utf8' },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('npm run bench / soak command line', () => {
  it('bench --help prints the usage, with --quick and --save, and starts nothing', async () => {
    const { code, stdout, stderr } = await npmRun('bench', ['--help']);
    expect(stdout).toContain('Usage: npm run bench -- [--quick] [--save]');
    expect(stdout).toMatch(/--quick {3}\S/);
    expect(stdout).toMatch(/--save {4}write the results to bench\/results\//);
    expect(stderr).not.toContain('building the packages');
    expect(code).toBe(0);
  }, 40_000);

  it('bench refuses an option it does not know, with the usage, before building anything', async () => {
    const { code, stdout, stderr } = await npmRun('bench', ['--quik']);
    expect(stderr).toContain("Unknown option '--quik'");
    expect(stderr).toContain('Usage: npm run bench');
    expect(stderr).not.toContain('building the packages');
    expect(stdout).toBe('');
    expect(code).toBe(2);
  }, 40_000);

  it('soak --help prints its usage and starts nothing', async () => {
    const { code, stdout } = await npmRun('soak', ['--help']);
    expect(stdout).toContain('Usage: npm run soak -- [SECONDS] [--save]');
    expect(code).toBe(0);
  }, 40_000);

  it('writes results to the gitignored bench/.results/, and to the committed bench/results/ only with --save', () => {
    expect(resultsFolder(false)).toBe(join(root, 'bench', '.results'));
    expect(resultsFolder(true)).toBe(join(root, 'bench', 'results'));
    const ignored = (path: string) => {
      try {
        execFileSync('git', ['check-ignore', '-q', path], { cwd: root });
        return true;
      } catch {
        return false;
      }
    };
    expect(ignored('bench/.results/results.md')).toBe(true);
    expect(ignored('bench/results/results.md')).toBe(false);
  });
});
