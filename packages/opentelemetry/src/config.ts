import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

export interface LovelyMemcachedInstrumentationConfig extends InstrumentationConfig {
  /**
   * Put the key memcached sees (`memcachedKey`: hashed, or the raw key with its namespace) on operation spans as
   * `lovely_memcached.key`. Keys may carry personal data, so they are left out unless asked for. Values are
   * never recorded.
   * @default false
   */
  captureKeys?: boolean;
  /**
   * A span for each request to one server (`get`, `getMulti`, `set`, ...), as a child of the operation's span.
   * Off keeps the operation spans and every metric at a lower cost per operation: the operation's span is then
   * not carried through its async work (no AsyncLocalStorage, which slows every promise on Node 20), so
   * operations inside a `getOrSet` factory become its siblings, children of the span active in the application.
   * @default true
   */
  commandSpans?: boolean;
}
