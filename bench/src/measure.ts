/**
 * Interleaved measurement: every round runs every subject of a comparison once (in a rotated order), so drift
 * (a warming JIT, a busy neighbour) hits all subjects alike; the reported figure is the median over rounds of each
 * round's median. Each tinybench iteration runs `concurrency` operations at once, so ops/s = concurrency / p50.
 */
import { Bench } from 'tinybench';

export interface Subject {
  name: string;
  op: () => Promise<unknown>;
}

export interface Measured {
  name: string;
  concurrency: number;
  /** Median operations per second. */
  opsPerSecond: number;
  /** Median latency of one iteration (all `concurrency` operations), in ms. */
  latencyMs: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export async function compare(
  subjects: readonly Subject[],
  concurrency: number,
  { rounds = 5, time = 200 }: { rounds?: number; time?: number } = {},
): Promise<Measured[]> {
  const latencies = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time, warmupTime: 40, iterations: 8, warmupIterations: 4 });
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length] as Subject);
    for (const subject of order) {
      bench.add(subject.name, () =>
        concurrency === 1 ? subject.op() : Promise.all(Array.from({ length: concurrency }, subject.op)),
      );
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (!('latency' in result)) {
        const cause = 'error' in result ? result.error : undefined;
        throw new Error(`${task.name} did not complete: ${result.state}`, { cause });
      }
      latencies.get(task.name)?.push(result.latency.p50);
    }
  }
  return subjects.map(({ name }) => {
    const latencyMs = median(latencies.get(name) ?? []);
    return { name, concurrency, latencyMs, opsPerSecond: (concurrency * 1000) / latencyMs };
  });
}

/** Times a one-off operation (with its own setup) a few times; the median in ms. */
export async function timeOnce(
  runs: number,
  setup: () => Promise<void>,
  operation: () => Promise<unknown>,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await setup();
    const started = performance.now();
    await operation();
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * The throughput ratio of `subject` to `base` for a small difference: the two alternate call by call (in
 * alternating order), each call timed on its own, so drift of the VM (a neighbour, a frequency change) hits both
 * alike; the ratio is of their median latencies, and of each fifth of the samples, to show its spread.
 * `throughputRatio` is of their total times: what the rare slow call (a compaction, say) costs, which a median
 * leaves out.
 * (Interleaving whole 200 ms runs, as `compare` does, left the per-round ratios' quartiles ±5 % apart here.)
 */
export async function alternate(
  [base, subject]: readonly [Subject, Subject],
  concurrency: number,
  samples: number,
): Promise<{ ratio: number; fifths: number[]; throughputRatio: number }> {
  const run = (s: Subject) =>
    concurrency === 1 ? s.op() : Promise.all(Array.from({ length: concurrency }, s.op));
  const time = async (s: Subject) => {
    const started = performance.now();
    await run(s);
    return performance.now() - started;
  };
  for (let i = 0; i < Math.min(2000, samples); i++) await run(i % 2 ? base : subject); // warm up both
  const baseTimes: number[] = [];
  const subjectTimes: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i % 2) {
      baseTimes.push(await time(base));
      subjectTimes.push(await time(subject));
    } else {
      subjectTimes.push(await time(subject));
      baseTimes.push(await time(base));
    }
  }
  const ratio = (from: number, to: number) =>
    median(baseTimes.slice(from, to)) / median(subjectTimes.slice(from, to));
  const fifth = Math.floor(samples / 5);
  const total = (times: number[]) => times.reduce((sum, time) => sum + time, 0);
  return {
    ratio: ratio(0, samples),
    throughputRatio: total(baseTimes) / total(subjectTimes),
    fifths: Array.from({ length: 5 }, (_, i) => ratio(i * fifth, (i + 1) * fifth)),
  };
}
