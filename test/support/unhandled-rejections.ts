import { afterEach, beforeEach } from 'vitest';

/** Collects the process's unhandled rejections during each test of the calling file; assert it stays empty. */
export function trackUnhandledRejections(): { readonly reasons: unknown[] } {
  const tracked = { reasons: [] as unknown[] };
  const listener = (reason: unknown) => tracked.reasons.push(reason);
  beforeEach(() => {
    tracked.reasons = [];
    process.on('unhandledRejection', listener);
  });
  afterEach(() => {
    process.off('unhandledRejection', listener);
  });
  return tracked;
}
