/**
 * An instrumentation wired to in-memory exporters: finished spans in `spans()`, metrics collected on demand.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { LovelyMemcachedInstrumentation, type LovelyMemcachedInstrumentationConfig } from '../src';

/** A reader collected by hand (no timer), cumulative so each collect sees every count so far. */
class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface Harness {
  instrumentation: LovelyMemcachedInstrumentation;
  tracerProvider: BasicTracerProvider;
  spans(): ReadableSpan[];
  /** Every data point of `metric`, collected now. */
  points(metric: string): Promise<Array<DataPoint<number | Histogram>>>;
  /** The sum of a counter's points whose attributes include `match`. */
  count(metric: string, match?: Attributes): Promise<number>;
  shutdown(): Promise<void>;
}

export function otelHarness(config: LovelyMemcachedInstrumentationConfig = {}): Harness {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const instrumentation = new LovelyMemcachedInstrumentation(config);
  instrumentation.setTracerProvider(tracerProvider);
  instrumentation.setMeterProvider(meterProvider);

  const points = async (metric: string) => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .filter((m) => m.descriptor.name === metric)
      .flatMap((m) => m.dataPoints as Array<DataPoint<number | Histogram>>);
  };
  const matches = (attributes: Attributes, match: Attributes) =>
    Object.entries(match).every(([name, value]) => attributes[name] === value);

  return {
    instrumentation,
    tracerProvider,
    spans: () => exporter.getFinishedSpans(),
    points,
    count: async (metric, match = {}) =>
      (await points(metric))
        .filter((p) => matches(p.attributes, match))
        .reduce((sum, p) => sum + (p.value as number), 0),
    shutdown: async () => {
      instrumentation.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** The span's parent span id, or undefined for a root span. */
export const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
