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
