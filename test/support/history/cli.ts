/**
 * A history from the command line, for soaks and for replaying a seed:
 *
 *   node --conditions=@lovely-memcached/source --import tsx test/support/history/cli.ts \
 *     --transport memjs --ms 20000 [--seed N] [--processes 2] [--clients 3] [--workers 2] [--sanity] [--strict-sets] \
 *     [--servers 127.0.0.1:11211] [--show 3] [--origin factory|set]
 *
 * Without `--servers` it starts its own memcached (three behind nutcracker for meta-proxy). Exits 1 when a
 * stale or damaged read was found.
 */
import { parseArgs } from 'node:util';
import { type RunningMemcached, startMemcached } from '@lovely-memcached/testing';
import { type RunningProxy, startNutcracker } from '../nutcracker';
import { formatReport } from './check';
import { runHistory } from './run-history';
import { HISTORY_TRANSPORTS, type HistoryTransport } from './transports';

const { values } = parseArgs({
  options: {
    transport: { type: 'string', default: 'memjs' },
    ms: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    processes: { type: 'string', default: '2' },
    clients: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    servers: { type: 'string' },
    sanity: { type: 'boolean', default: false },
    'strict-sets': { type: 'boolean', default: false },
    // Sets apart the reads a known core defect explains (check.ts): off, so a soak shows them as stale.
    show: { type: 'string', default: '3' },
    origin: { type: 'string' },
  },
});
const transport = values.transport as HistoryTransport;
if (!HISTORY_TRANSPORTS.includes(transport)) {
  throw new Error(`--transport must be one of ${HISTORY_TRANSPORTS.join(', ')}, got ${values.transport}`);
}

const started: RunningMemcached[] = [];
let proxy: RunningProxy | undefined;
let servers = values.servers?.split(',');
try {
  if (servers === undefined && transport !== 'memory') {
    started.push(
      ...(await Promise.all(
        Array.from({ length: transport === 'meta-proxy' ? 3 : 1 }, () => startMemcached()),
      )),
    );
    servers = started.map((server) => server.servers[0] as string);
    if (transport === 'meta-proxy') {
      proxy = await startNutcracker(servers);
      servers = [proxy.address];
    }
  }
  const run = await runHistory({
    transport,
    servers,
    durationMs: Number(values.ms),
    processes: Number(values.processes),
    clientsPerProcess: Number(values.clients),
    workersPerClient: Number(values.workers),
    sanity: values.sanity,
    strictSets: values['strict-sets'],
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
  });
  const origin = values.origin === 'set' || values.origin === 'factory' ? values.origin : undefined;
  console.log(
    formatReport(run.result, run.events, {
      seed: run.seed,
      label: run.label,
      shown: Number(values.show),
      origin,
    }),
  );
  if (run.result.stale.length > 0 || run.result.damaged.length > 0) process.exitCode = 1;
} finally {
  await proxy?.stop();
  await Promise.all(started.map((server) => server.stop()));
}
