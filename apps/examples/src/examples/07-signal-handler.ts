import { EventLoop, sleep } from '@aioloop/core';
import '@aioloop/signals';
import type { Output } from './output.js';

/**
 * Example 7: addSignalHandler() for SIGINT and SIGTERM. The asyncio original
 * waits an hour for Ctrl+C; to finish on its own, this one sends itself
 * SIGTERM after `selfSignalAfter` seconds.
 */
export async function signalHandlerExample(out: Output, selfSignalAfter = 0.5): Promise<void> {
  const loop = new EventLoop();
  const askExit = (signame: string): void => {
    out(`got signal ${signame}: exit`);
    loop.stop();
  };
  try {
    await loop.runUntilComplete(async () => {
      for (const signame of ['SIGINT', 'SIGTERM'] as const) loop.addSignalHandler(signame, askExit, signame);
      out(`pid ${process.pid}: send SIGINT or SIGTERM to exit (sending SIGTERM to myself in ${selfSignalAfter} s).`);
      loop.callLater(selfSignalAfter, () => process.kill(process.pid, 'SIGTERM'));
      await sleep(3600);
    });
  } catch (error) {
    // stop() ends the run before the hour-long sleep completes, as in asyncio.
    if (!(error instanceof Error && /stopped before Future completed/.test(error.message))) throw error;
  } finally {
    loop.close(); // also removes the loop's signal handlers
  }
}
