/**
 * The one clock of a history: CLOCK_MONOTONIC (`process.hrtime.bigint()`), which every process on the machine
 * shares, so a timestamp taken in a child process compares with one taken in the parent. Wall time (`Date.now`)
 * could step between two events and reorder them; `performance.now()` counts from each process's own start.
 */
export function nowUs(): number {
  // Microseconds since boot fit a double exactly for millennia; nanoseconds would not.
  return Number(process.hrtime.bigint() / 1000n);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sleeps until the monotonic clock reads `atUs` (workers of every process start together). */
export async function sleepUntil(atUs: number): Promise<void> {
  const leftMs = (atUs - nowUs()) / 1000;
  if (leftMs > 0) await sleep(leftMs);
}
