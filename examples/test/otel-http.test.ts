import { expect, it } from 'vitest';
import { expectSummary, runOtelExample } from './otel-http.shared';

it('the OpenTelemetry example prints the hit ratio and latencies of its traffic, in memory', async () => {
  const output = await runOtelExample('');
  expectSummary(output, '127.0.0.1:11211');
  expect(output).not.toContain('Ada Lovelace'); // the summary speaks of operations, never of values
}, 60_000);
