// Port of 03-call-later.py (the asyncio docs' call_soon / call_later / call_at programs) to aioloop.
import { EventLoop, getRunningLoop } from '@aioloop/core';
import { run } from '@aioloop/policy';

function helloWorld(loop: EventLoop): void {
  // A callback to print 'Hello World' and stop the event loop
  console.log('Hello World');
  loop.stop();
}

function displayTick(n: number, last: number, loop: EventLoop, start: number): void {
  // 1 ms of slack: a loop may run a timer a clock resolution early.
  const lateEnough = loop.time() - start >= n * 0.01 - 0.001;
  console.log('tick', n, 'of', last, '- at least', n * 10, 'ms after the first:', lateEnough ? 'yes' : 'no');
  if (n < last) {
    loop.callLater(0.01, displayTick, n + 1, last, loop, start);
  } else {
    loop.stop();
  }
}

let loop = new EventLoop();

// Schedule a call to helloWorld()
loop.callSoon(helloWorld, loop);

// runForever() returns a promise that settles at loop.stop()
try {
  await loop.runForever();
} finally {
  loop.close();
}

loop = new EventLoop();

// Schedule the first call to displayTick(); five ticks 10 ms apart
// (the docs' program: the date once a second for five seconds).
loop.callSoon(displayTick, 0, 4, loop, loop.time());

try {
  await loop.runForever();
} finally {
  loop.close();
}

// The order in which callbacks run: callSoon in FIFO order, timers by deadline
// (callLater and callAt are the same clock), a cancelled handle never runs.
function log(what: string): void {
  console.log('callback', what);
}

async function main(): Promise<void> {
  const loop = getRunningLoop();
  const done = loop.createFuture<null>();
  const now = loop.time();
  loop.callLater(0.03, log, 'call_later(0.03)');
  loop.callAt(now + 0.02, log, 'call_at(now + 0.02)');
  const cancelled = loop.callLater(0.01, log, 'cancelled call_later(0.01)');
  // asyncio passes done.set_result itself; a method detached from its object
  // does not compile here (docs/mapping.md, "bound methods"): wrap it.
  loop.callLater(0.04, () => done.setResult(null));
  loop.callSoon(log, 'call_soon 1');
  loop.callSoon(log, 'call_soon 2');
  cancelled.cancel();
  console.log('cancelled:', cancelled.cancelled() ? 'yes' : 'no');
  console.log('when() is the deadline:', cancelled.when() >= now + 0.01 ? 'yes' : 'no');
  await done;
  console.log('done');
}

await run(main);
