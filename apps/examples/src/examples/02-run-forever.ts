import { newEventLoop } from '@aioloop/policy';
import type { Output } from './output.js';

/** Example 2: newEventLoop() + runForever(), a callSoon callback that stops the loop. */
export async function runForeverExample(out: Output): Promise<void> {
  const loop = newEventLoop();
  const helloWorld = (name: string): void => {
    out(`Hello ${name}`);
    loop.stop();
  };
  loop.callSoon(helloWorld, 'World');
  try {
    await loop.runForever(); // settles when stop() takes effect
  } finally {
    loop.close();
  }
}
