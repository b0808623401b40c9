/**
 * A clock that moves only when told to (Trio's MockClock without its
 * auto-jump): `TestLoop` reads it as `time()` and decides, in its idle
 * policy, when and how far it moves.
 */
export class VirtualClock {
  private _now: number;
  private _jumps = 0;

  constructor(start: number) {
    this._now = start;
  }

  /** The time, in seconds. */
  get now(): number {
    return this._now;
  }

  /** How many times the clock moved forward. */
  get jumps(): number {
    return this._jumps;
  }

  /** Moves the clock to `time` if that is later (it never goes back). */
  jumpTo(time: number): void {
    if (time > this._now) {
      this._now = time;
      this._jumps++;
    }
  }
}

/** `1.5s`: seconds for messages, without float noise. */
export function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(6))}s`;
}
