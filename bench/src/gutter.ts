/**
 * `pnpm --filter @lovely-memcached/bench gutter`: losing a server (server-loss.ts) on its own — factory calls and
 * hit ratio during a cut without and with a gutter, how soon a returned server is used again, how long a client
 * that never saw the outage reads an invalidated value, and the replay's deletes/s. `npm run bench` has the same
 * rows in its table.
 */
import { buildPackages, readCommandLine } from './cli';

const usage = `Usage: pnpm --filter @lovely-memcached/bench gutter

Builds the packages, starts four memcached (three behind relays that can refuse connections, one gutter) and
prints the measurements of losing one server as a Markdown table. About 30 seconds.
`;

readCommandLine(process.argv.slice(2), usage, []);
if (process.env.BENCH_NO_BUILD !== '1') buildPackages();
// Imported after the build: the benchmark measures the built packages, as users get them.
const { measureServerLoss } = await import('./server-loss');
const { markdown } = await import('./report');
const rows = await measureServerLoss();
process.stdout.write(markdown(rows, `${process.version}, loopback`));
process.exit(0);
