import { onTestFinished } from 'vitest';
import { EventLoop } from '../src/index.js';

/** A new loop (debug off) that is closed when the current test finishes, unless still running. */
export function newLoop(): EventLoop {
  const loop = new EventLoop({ debug: false });
  onTestFinished(() => {
    if (!loop.isRunning()) loop.close();
  });
  return loop;
}

/**
 * A loop on a virtual clock: when nothing is ready it jumps straight to the next
 * timer instead of waiting, so timers fire in exact deadline order however
 * loaded the machine is (what `@aioloop/testing`'s TestLoop does, kept minimal
 * here because core's tests cannot depend on that package).
 */
export class VirtualClockLoop extends EventLoop {
  private now = 0;

  override time(): number {
    return this.now;
  }

  protected override onIdle(delaySeconds: number): void {
    if (delaySeconds === Infinity) return;
    this.now += delaySeconds;
    this.wakeup();
  }
}

/** A {@link VirtualClockLoop} closed when the current test finishes. */
export function newVirtualLoop(): EventLoop {
  const loop = new VirtualClockLoop({ debug: false });
  onTestFinished(() => {
    if (!loop.isRunning()) loop.close();
  });
  return loop;
}

/** The error `p` rejects with; fails the test if it resolves. */
export async function caught(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but it resolved');
}
