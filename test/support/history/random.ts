/**
 * A seeded PRNG (mulberry32), so a failing history's operation mix can be run again from its seed. Timing is
 * not reproducible (the servers and the scheduler decide it): a seed replays what each worker tries to do,
 * not the interleaving.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
  };
}

/** One worker's seed from the run's: workers draw different sequences, all fixed by the run's seed. */
export function deriveSeed(seed: number, worker: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(worker + 1, 0xc2b2ae35)) >>> 0;
}

/** A fresh seed for a run that was not given one (printed, so it can be given next time). */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
