// @aioloop/policy: run(main) with getEventLoop() inside.
import { sleep } from '@aioloop/core';
import { getEventLoop, run } from '@aioloop/policy';

const answer = await run(async () => {
  const loop = getEventLoop();
  const fut = loop.createFuture();
  loop.callLater(0.01, () => fut.setResult(21));
  await sleep(0.02);
  return (await fut) * 2;
});
if (answer !== 42) throw new Error(`got ${answer}`);
console.log('ok: run() and getEventLoop()');
