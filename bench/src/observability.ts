/**
 * What observing the client costs: `client.query` (a hit) against a memcached this script starts (one thread),
 * at concurrency 1 and 64,
 *   (a) with no subscriber: the channels cost one `hasSubscribers` check per operation;
 *   (b) with a bare diagnostics_channel subscriber: no-op handlers on every lovely-memcached channel, the floor
 *       of any APM tool subscribing;
 *   (c) with LovelyMemcachedInstrumentation enabled: spans (batched to an exporter that drops them) and metrics
 *       (aggregated by a reader that is never collected);
 *   (d) as (c) with `commandSpans: false`: operation spans and every metric, no span per server request (and
 *       no AsyncLocalStorage carrying the operation's span);
 *   (e) as (c) with 1 trace in 10 sampled (`TraceIdRatioBasedSampler(0.1)`), as production setups often run.
 * Modes run in interleaved rounds (rotated order, each mode switched on just before its turn), so drift hits all
 * alike; each figure is the median over rounds. Ratios are against (a): ops/s (higher is better), and this
 * process's CPU time per operation (lower is better; steadier than ops/s when other processes share the cores).
 *
 *   pnpm --filter @lovely-memcached/bench observability        ROUNDS=9 TIME_MS=300 for steadier figures
 */
import { type TracingChannelSubscribers, tracingChannel } from 'node:diagnostics_channel';
import { MemcachedClient } from '@lovely-memcached/core';
import { LovelyMemcachedInstrumentation } from '@lovely-memcached/opentelemetry';
import { startMemcached } from '@lovely-memcached/testing';
import { memjsTransport } from '@lovely-memcached/transport-memjs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const TIME_MS = Number(process.env.TIME_MS ?? 200);
const CONCURRENCIES = [1, 64];

/** Takes every batch and drops it: the cost measured is ours and the SDK's, not a collector's. */
class DroppingExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

/** A reader that is never collected: the instruments still aggregate every measurement. */
class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const CHANNELS = [
  'query',
  'set',
  'getOrSet',
  'invalidate',
  'invalidateNamespace',
  'invalidateAll',
  'keys',
  'dependents',
  'getStatistics',
  'command',
  'factory',
  'lease-wait',
].map((name) => tracingChannel(`lovely-memcached:${name}`));

const ignore = () => {};
const bare: TracingChannelSubscribers<object> = {
  start: ignore,
  end: ignore,
  asyncStart: ignore,
  asyncEnd: ignore,
  error: ignore,
};

const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(new DroppingExporter())],
});
const sampledTracerProvider = new BasicTracerProvider({
  sampler: new TraceIdRatioBasedSampler(0.1),
  spanProcessors: [new BatchSpanProcessor(new DroppingExporter())],
});
const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
const instrumentation = (commandSpans: boolean, tracers = tracerProvider) => {
  const created = new LovelyMemcachedInstrumentation({ enabled: false, commandSpans });
  created.setTracerProvider(tracers);
  created.setMeterProvider(meterProvider);
  return created;
};
const withCommands = instrumentation(true);
const withoutCommands = instrumentation(false);
const sampled = instrumentation(true, sampledTracerProvider);

interface Mode {
  name: string;
  on(): void;
  off(): void;
}

const modes: Mode[] = [
  { name: '(a) no subscriber', on: ignore, off: ignore },
  {
    name: '(b) bare diagnostics_channel subscriber',
    on: () => {
      for (const channel of CHANNELS) channel.subscribe(bare);
    },
    off: () => {
      for (const channel of CHANNELS) channel.unsubscribe(bare);
    },
  },
  {
    name: '(c) LovelyMemcachedInstrumentation',
    on: () => withCommands.enable(),
    off: () => withCommands.disable(),
  },
  {
    name: '(d) instrumentation, commandSpans: false',
    on: () => withoutCommands.enable(),
    off: () => withoutCommands.disable(),
  },
  {
    name: '(e) instrumentation, 10% of traces sampled',
    on: () => sampled.enable(),
    off: () => sampled.disable(),
  },
];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

interface Figures {
  opsPerSecond: number;
  /** CPU time of this process per operation: less swayed than ops/s by other processes on a busy machine. */
  cpuMicroseconds: number;
}

/** Runs `iteration` for `ms` (after a short warm-up); operations per second and CPU µs per operation. */
async function run(iteration: () => Promise<unknown>, concurrency: number, ms: number): Promise<Figures> {
  const warmUntil = performance.now() + 50;
  while (performance.now() < warmUntil) await iteration();
  let operations = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const until = started + ms;
  while (performance.now() < until) {
    await iteration();
    operations += concurrency;
  }
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    opsPerSecond: (operations * 1000) / elapsed,
    cpuMicroseconds: (used.user + used.system) / operations,
  };
}

async function measure(client: MemcachedClient, concurrency: number): Promise<Map<string, Figures>> {
  const rounds = new Map<string, Figures[]>(modes.map((m) => [m.name, []]));
  const op = () => client.query('page');
  const iteration = concurrency === 1 ? op : () => Promise.all(Array.from({ length: concurrency }, op));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[(i + round) % modes.length] as Mode;
      mode.on();
      try {
        rounds.get(mode.name)?.push(await run(iteration, concurrency, TIME_MS));
      } finally {
        mode.off();
      }
    }
  }
  return new Map(
    [...rounds].map(([name, figures]) => [
      name,
      {
        opsPerSecond: median(figures.map((f) => f.opsPerSecond)),
        cpuMicroseconds: median(figures.map((f) => f.cpuMicroseconds)),
      },
    ]),
  );
}

const memcached = await startMemcached({ args: ['-t', '1'] });
const client = new MemcachedClient({ transport: memjsTransport(), servers: memcached.servers });
try {
  await client.set('page', '<h1>a page of a few hundred bytes</h1>'.repeat(8));
  console.log(
    `client.query (hit) against memcached -t 1, memjs transport; ${ROUNDS} interleaved rounds of ${TIME_MS} ms, Node ${process.version}`,
  );
  for (const concurrency of CONCURRENCIES) {
    const results = await measure(client, concurrency);
    const baseline = results.get(modes[0]?.name ?? '');
    console.log(`\nconcurrency ${concurrency}${''.padEnd(34)}ops/s   vs (a)   CPU µs/op   vs (a)`);
    for (const [name, { opsPerSecond, cpuMicroseconds }] of results) {
      const ops = Math.round(opsPerSecond).toLocaleString('en-US');
      const opsRatio = (opsPerSecond / (baseline?.opsPerSecond ?? Number.NaN)).toFixed(2);
      const cpuRatio = (cpuMicroseconds / (baseline?.cpuMicroseconds ?? Number.NaN)).toFixed(2);
      console.log(
        `  ${name.padEnd(44)}${ops.padStart(9)}${`${opsRatio}×`.padStart(9)}` +
          `${cpuMicroseconds.toFixed(1).padStart(12)}${`${cpuRatio}×`.padStart(9)}`,
      );
    }
  }
} finally {
  await client.close();
  await memcached.stop();
  await Promise.all([tracerProvider.shutdown(), sampledTracerProvider.shutdown(), meterProvider.shutdown()]);
}
