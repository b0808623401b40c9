import { EventLoop, getRunningLoop } from '@aioloop/core';
import type { Output } from './output.js';

/** Example 1: getRunningLoop() returns the loop inside a callback and inside a task. */
export async function getRunningLoopExample(out: Output): Promise<void> {
  const loop = new EventLoop();
  try {
    await loop.runUntilComplete(async () => {
      loop.callSoon(() => out(`in a callback: getRunningLoop() is our loop: ${getRunningLoop() === loop}`));
      out(`in a task: getRunningLoop() is our loop: ${getRunningLoop() === loop}`);
    });
  } finally {
    loop.close();
  }
}
