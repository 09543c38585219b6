/**
 * The TLS stall nudge with fake timers: a no-op right after a burst of several TLS records, and after a short
 * silence while requests wait, with pauses that double while the silence lasts; none while replies come or
 * nothing waits, none after stop.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BURST_NUDGE_DELAY, FIRST_NUDGE_DELAY, StallNudger } from '../src';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const state = { waiting: true, nudges: [] as number[] };
  const started = Date.now();
  const nudger: StallNudger = new StallNudger(
    () => {
      state.nudges.push(Date.now() - started);
      nudger.wrote(); // the no-op is itself a write, as on a real connection
    },
    () => state.waiting,
  );
  return { nudger, state };
}

describe('StallNudger', () => {
  it('nudges after a silence while requests wait, with pauses that double', () => {
    const { nudger, state } = setup();
    nudger.wrote();
    vi.advanceTimersByTime(FIRST_NUDGE_DELAY - 1);
    expect(state.nudges).toEqual([]);
    vi.advanceTimersByTime(1 + 2 * FIRST_NUDGE_DELAY + 4 * FIRST_NUDGE_DELAY);
    expect(state.nudges).toEqual([FIRST_NUDGE_DELAY, 3 * FIRST_NUDGE_DELAY, 7 * FIRST_NUDGE_DELAY]);
    nudger.stop();
  });

  it('a slow or dead server gets a handful of no-ops per second, not a stream', () => {
    const { nudger, state } = setup();
    nudger.wrote();
    vi.advanceTimersByTime(1000);
    expect(state.nudges.length).toBeGreaterThan(0);
    expect(state.nudges.length).toBeLessThanOrEqual(10);
    nudger.stop();
  });

  it('does not nudge while replies keep coming, and soon after they stop', () => {
    const { nudger, state } = setup();
    nudger.wrote();
    vi.advanceTimersByTime(100); // a silence first: the pauses grow
    const before = state.nudges.length;
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(FIRST_NUDGE_DELAY - 1);
      nudger.heard();
    }
    expect(state.nudges.length).toBe(before);
    const lastReply = state.nudges.length;
    vi.advanceTimersByTime(2 * FIRST_NUDGE_DELAY);
    expect(state.nudges.length).toBe(lastReply + 1); // the pause is short again
    nudger.stop();
  });

  it('does not nudge when nothing waits, nor after stop', () => {
    const { nudger, state } = setup();
    state.waiting = false;
    nudger.wrote();
    vi.advanceTimersByTime(100);
    expect(state.nudges).toEqual([]);
    state.waiting = true;
    nudger.wrote();
    nudger.stop();
    vi.advanceTimersByTime(100);
    expect(state.nudges).toEqual([]);
  });

  it('nudges once right after a burst, even while replies still come', () => {
    const { nudger, state } = setup();
    nudger.wrote();
    nudger.burst();
    nudger.burst(); // the same burst's ticks share one nudge
    vi.advanceTimersByTime(BURST_NUDGE_DELAY / 2);
    nudger.heard();
    vi.advanceTimersByTime(BURST_NUDGE_DELAY / 2);
    expect(state.nudges).toEqual([BURST_NUDGE_DELAY]);
    nudger.heard();
    vi.advanceTimersByTime(FIRST_NUDGE_DELAY - 1);
    nudger.heard();
    expect(state.nudges).toEqual([BURST_NUDGE_DELAY]);
    state.waiting = false;
    nudger.burst();
    vi.advanceTimersByTime(100);
    expect(state.nudges).toEqual([BURST_NUDGE_DELAY]); // nothing waited any more
    nudger.stop();
  });
});
