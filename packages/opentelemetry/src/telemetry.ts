import type { Tracer } from '@opentelemetry/api';
import type { LovelyMemcachedInstrumentationConfig } from './config';
import type { Instruments } from './instruments';

/**
 * What the channel subscribers read at each event, always current: the tracer and meter can be replaced
 * (`setTracerProvider`, `setMeterProvider`) and the config changed while subscribed.
 */
export interface Telemetry {
  tracer(): Tracer;
  instruments(): Instruments;
  config(): LovelyMemcachedInstrumentationConfig;
}
