import { EventLoop } from '@aioloop/core';
import type { Output } from './output.js';

/** Example 3: callLater() prints the date once a second for five seconds (`interval` shortens it in tests). */
export async function callLaterExample(out: Output, interval = 1, loop = new EventLoop()): Promise<void> {
  const endTime = loop.time() + 5 * interval;
  const displayDate = (): void => {
    out(new Date().toISOString());
    if (loop.time() + interval < endTime) loop.callLater(interval, displayDate);
    else loop.stop();
  };
  loop.callSoon(displayDate);
  try {
    await loop.runForever();
  } finally {
    loop.close();
  }
}
