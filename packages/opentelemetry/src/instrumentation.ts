import { InstrumentationBase } from '@opentelemetry/instrumentation';
import { traceCommands } from './command-tracing';
import type { LovelyMemcachedInstrumentationConfig } from './config';
import { createInstruments, type Instruments } from './instruments';
import { traceOperations } from './operation-tracing';
import { countReadThrough } from './read-through-tracing';
import { countServerEvents } from './server-events';
import type { Telemetry } from './telemetry';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version';

/**
 * OpenTelemetry instrumentation for `@lovely-memcached/core`. It only subscribes to the client's
 * `diagnostics_channel` channels (`lovely-memcached:*`): nothing is patched, no module is hooked, so it works
 * whether it is created before or after the client is imported, for ESM and CJS alike.
 *
 * ```ts
 * const instrumentation = new LovelyMemcachedInstrumentation({ captureKeys: false });
 * instrumentation.setTracerProvider(tracerProvider); // or registerInstrumentations / the NodeSDK
 * instrumentation.setMeterProvider(meterProvider);
 * ```
 */
export class LovelyMemcachedInstrumentation extends InstrumentationBase<LovelyMemcachedInstrumentationConfig> {
  // `declare`: the base constructor calls `_updateMetricInstruments()` and `enable()` before a field initializer
  // of ours would run (and would then overwrite what they set).
  declare private instruments: Instruments;
  declare private unsubscribe: (() => void) | undefined;

  constructor(config: LovelyMemcachedInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  /** No module to hook: the client publishes on channels. */
  protected override init(): undefined {
    return undefined;
  }

  protected override _updateMetricInstruments(): void {
    this.instruments = createInstruments(this.meter);
  }

  override enable(): void {
    super.enable();
    if (this.unsubscribe === undefined) this.subscribe();
  }

  override disable(): void {
    super.disable();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** A new config takes effect at once: the subscriptions depend on it (`commandSpans`). */
  override setConfig(config: LovelyMemcachedInstrumentationConfig = {}): void {
    super.setConfig(config);
    if (this.unsubscribe === undefined) return;
    this.unsubscribe();
    this.subscribe();
  }

  private subscribe(): void {
    const telemetry: Telemetry = {
      tracer: () => this.tracer,
      instruments: () => this.instruments,
      config: () => this.getConfig(),
    };
    const stops = [
      // Nesting is what command spans need; without them, the AsyncLocalStorage (costly on Node 20) is not bound.
      traceOperations(telemetry, this.getConfig().commandSpans !== false),
      traceCommands(telemetry),
      countReadThrough(telemetry),
      countServerEvents(telemetry),
    ];
    this.unsubscribe = () => {
      for (const stop of stops) stop();
    };
  }
}
