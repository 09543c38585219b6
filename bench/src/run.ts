/**
 * `npm run bench`: builds the packages, then runs the benchmarks (benchmarks.ts). See `npm run bench -- --help`.
 */
import { buildPackages, readCommandLine, resultsFolder } from './cli';

const usage = `Usage: npm run bench -- [--quick] [--save]

Builds the packages, starts its own memcached (one thread, loopback, a free port) and measures every
comparison interleaved, against raw memjs and two other memcached clients. About 3 minutes. Its table
ends with losing a server (four more memcached, three behind relays that refuse connections): factory calls
and hit ratio during a cut without and with a gutter, how soon a returned server is used again, and the
replay's deletes/s; on their own: pnpm --filter @lovely-memcached/bench gutter.

  --quick   2 rounds per comparison instead of 7, fewer timings of keys() and invalidate: a rough look,
            about a minute; the figures are noisier
  --save    write the results to bench/results/ (committed; the README's table comes from there) instead of
            the scratch folder bench/.results/ (gitignored)
  --help    print this and exit
`;

const { flags } = readCommandLine(process.argv.slice(2), usage, ['quick', 'save']);
buildPackages();
const { runBenchmarks } = await import('./benchmarks');
await runBenchmarks({ quick: flags.quick, results: resultsFolder(flags.save) });
if (!flags.save) process.stderr.write('(with --save they go to bench/results/, the committed ones)\n');
process.exit(0);
