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
 * alike; the figure is the median over rounds. Ratios are ops/s against (a).
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
import { Bench } from 'tinybench';

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

async function measure(client: MemcachedClient, concurrency: number): Promise<Map<string, number>> {
  const opsPerSecond = new Map<string, number[]>(modes.map((m) => [m.name, []]));
  const op = () => client.query('page');
  const iteration = concurrency === 1 ? op : () => Promise.all(Array.from({ length: concurrency }, op));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[(i + round) % modes.length] as Mode;
      mode.on();
      try {
        const bench = new Bench({ time: TIME_MS, warmupTime: 50, warmupIterations: 8 });
        bench.add(mode.name, iteration);
        await bench.run();
        const result = bench.tasks[0]?.result;
        if (result === undefined || !('latency' in result)) throw new Error(`${mode.name} did not complete`);
        opsPerSecond.get(mode.name)?.push((concurrency * 1000) / result.latency.p50);
      } finally {
        mode.off();
      }
    }
  }
  return new Map([...opsPerSecond].map(([name, values]) => [name, median(values)]));
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
    const baseline = results.get(modes[0]?.name ?? '') ?? Number.NaN;
    console.log(`\nconcurrency ${concurrency}`);
    for (const [name, ops] of results) {
      console.log(
        `  ${name.padEnd(42)}${Math.round(ops).toLocaleString('en-US').padStart(10)} ops/s   ${(ops / baseline).toFixed(2)}× (a)`,
      );
    }
  }
} finally {
  await client.close();
  await memcached.stop();
  await Promise.all([tracerProvider.shutdown(), sampledTracerProvider.shutdown(), meterProvider.shutdown()]);
}
