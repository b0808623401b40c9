// @aioloop/core: callbacks, timers, tasks, gather, waitFor's timeout and TaskGroup.
import { EventLoop, TaskGroup, TimeoutError, gather, sleep, waitFor } from '@aioloop/core';

const loop = new EventLoop();
const order = [];
const result = await loop.runUntilComplete(async () => {
  loop.callLater(0.02, () => order.push('later'));
  loop.callSoon(() => order.push('soon'));
  const pair = await gather(async () => { await sleep(0.01); return 1; }, async () => 2);
  let timedOut = false;
  try {
    await waitFor(() => sleep(10), 0.01);
  } catch (error) {
    timedOut = error instanceof TimeoutError;
  }
  const fromGroup = await TaskGroup.run(async (tg) => {
    const a = tg.createTask(async () => { await sleep(0.01); return 'a'; });
    return () => a.result();
  });
  await sleep(0.02);
  return { pair, timedOut, fromGroup: fromGroup() };
});
loop.close();
const expected = JSON.stringify({ order: ['soon', 'later'], pair: [1, 2], timedOut: true, fromGroup: 'a' });
const actual = JSON.stringify({ order, ...result });
if (actual !== expected) throw new Error(`got ${actual}, expected ${expected}`);
console.log('ok: core loop, timers, tasks, gather, waitFor, TaskGroup');
