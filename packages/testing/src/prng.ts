import { checkProbability, describeValue } from './describe.js';
/**
 * A small seeded pseudo-random generator (mulberry32): the same seed gives the
 * same sequence on every run and platform, which is what makes a simulated
 * network replayable.
 */
export class SeededRandom {
  /** The seed this generator started from. */
  readonly seed: number;
  private state: number;

  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isInteger(seed)) {
      throw new TypeError(`SeededRandom(seed): seed must be an integer, got ${String(seed)}`);
    }
    this.seed = seed >>> 0;
    this.state = this.seed;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    checkProbability(p, 'chance(): p');
    return p > 0 && this.next() < p;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min > max) {
      throw new RangeError(`int(): min and max must be integers with min <= max, got ${describeValue(min)} and ${describeValue(max)}`);
    }
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** A fresh seed for a run that did not choose one (printed on failure so the run can be replayed). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
