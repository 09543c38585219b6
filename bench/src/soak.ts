/**
 * `npm run soak`: builds the packages, then runs the fault soak (soak-run.ts). See `npm run soak -- --help`.
 */
import { buildPackages, readCommandLine, resultsFolder } from './cli';

const usage = `Usage: npm run soak -- [SECONDS] [--save]

Builds the packages, then runs 32 concurrent clients (4 tracking keys) on 3 memcached servers it starts, one
server SIGKILLed and restarted every 10 s. Fails (exit 1) if a call threw or a read was stale.

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
process.exit((await runSoak({ seconds, results: resultsFolder(flags.save) })) ? 0 : 1);
