import { EventLoop } from '@aioloop/core';

/**
 * A test-double loop with a virtual clock: when nothing is ready it jumps the
 * clock to the next timer instead of waiting in real time (what a testing
 * package's loop does).
 */
export class VirtualClockLoop extends EventLoop {
  /** The virtual time, in seconds. */
  now = 1000;
  /** How many times the clock jumped. */
  jumps = 0;

  override time(): number {
    return this.now;
  }

  protected override onIdle(delaySeconds: number): void {
    if (delaySeconds === Infinity) return;
    this.now += delaySeconds;
    this.jumps++;
    this.wakeup();
  }
}
