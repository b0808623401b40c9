import { EventLoop } from '@aioloop/core';
import { socketpair } from '@aioloop/net';
import type { Output } from './output.js';

/** Example 6: addReader() watches a socketpair's fd for read events. */
export async function addReaderExample(out: Output): Promise<void> {
  const loop = new EventLoop();
  // Create a pair of connected file descriptors.
  const [rsock, wsock] = socketpair();
  try {
    await loop.runUntilComplete(async () => {
      // A future to wait for the data.
      const fut = loop.createFuture<void>();
      const reader = (): void => {
        const data = rsock.recv(100);
        out(`Received: ${data.toString()}`);
        // We are done: unregister the file descriptor.
        loop.removeReader(rsock);
        // Set the future result.
        fut.setResult();
      };
      // Register the file descriptor for read events.
      loop.addReader(rsock, reader);
      // Simulate the reception of data from the network.
      loop.callSoon(() => wsock.send(Buffer.from('abc')));
      // Wait until data is read.
      await fut;
    });
  } finally {
    // Close the sockets and the loop.
    rsock.close();
    wsock.close();
    loop.close();
  }
}
