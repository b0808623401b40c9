// @aioloop/signals: addSignalHandler gets a SIGUSR1 this process sends itself.
import { EventLoop } from '@aioloop/core';
import '@aioloop/signals';

const loop = new EventLoop();
const got = await loop.runUntilComplete(async () => {
  const fut = loop.createFuture();
  loop.addSignalHandler('SIGUSR1', (why) => fut.setResult(why), 'SIGUSR1 received');
  process.kill(process.pid, 'SIGUSR1');
  const why = await fut;
  loop.removeSignalHandler('SIGUSR1');
  return why;
});
loop.close();
if (got !== 'SIGUSR1 received') throw new Error(`got ${got}`);
console.log('ok: signal handler');
