/**
 * Pins memcached and the benchmark to a core each. On this 2-core VM, unpinned runs let memcached's thread and
 * the client queue behind each other on one core now and then: the same ratio moved by ±10 % from run to run,
 * and more at concurrency 1, where every call waits for one round trip.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** Pins every thread of `pid` to `core` (-1: every core); false when it cannot (one core, or no `taskset`). */
function pin(pid: number, core: number): boolean {
  if (cpus().length < 2) return false;
  const cores = core < 0 ? `0-${cpus().length - 1}` : String(core);
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * memcached (`pid`) on core 1, this process on core 0. Returns how to give this process every core back (before
 * it starts processes of its own, which would inherit the pin), or undefined when nothing could be pinned.
 */
export function pinApart(memcachedPid: number): (() => void) | undefined {
  if (!pin(memcachedPid, 1) || !pin(process.pid, 0)) return undefined;
  return () => {
    pin(process.pid, -1);
  };
}
