/**
 * `npm run soak`: builds the packages, then runs the fault soak (soak-run.ts), then the invalidation
 * guarantee's history checker (test/support/history) over every transport, each for a quarter of the time.
 * See `npm run soak -- --help`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPackages, readCommandLine, resultsFolder } from './cli';

const usage = `Usage: npm run soak -- [SECONDS] [--save]

Builds the packages, then runs 32 concurrent clients (4 tracking keys) on 3 memcached servers it starts, one
server SIGKILLed and restarted every 10 s; then the history checker of the invalidation guarantee (random
getOrSet, query, set and invalidations from several clients and processes, every read checked against the
invalidations that resolved before it started) over memory, memjs, meta and meta behind nutcracker, each for a
quarter of SECONDS. Fails (exit 1) if a call threw or a read was stale.

  SECONDS   how long to run (default 60)
  --save    write soak.md to bench/results/ (committed) instead of the scratch folder bench/.results/
  --help    print this and exit
`;

const { flags, positionals } = readCommandLine(process.argv.slice(2), usage, ['save'], 1);
const seconds = Number(positionals[0] ?? 60);
if (!Number.isFinite(seconds) || seconds <= 0) {
  process.stderr.write(`SECONDS must be a positive number, not '${positionals[0]}'\n\n${usage}`);
  process.exit(2);
}
buildPackages();
const { runSoak } = await import('./soak-run');
let passed = await runSoak({ seconds, results: resultsFolder(flags.save) });
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
for (const transport of ['memory', 'memjs', 'meta', 'meta-proxy']) {
  process.stdout.write(`\nhistory checker over ${transport}, ${Math.round(seconds / 4)} s\n`);
  const history = spawnSync(
    process.execPath,
    [
      '--conditions=@lovely-memcached/source',
      '--import',
      'tsx',
      join(root, 'test/support/history/cli.ts'),
      '--transport',
      transport,
      '--ms',
      String(Math.round((seconds * 1000) / 4)),
    ],
    { stdio: 'inherit', cwd: root },
  );
  if (history.status !== 0) passed = false;
}
process.exit(passed ? 0 : 1);
