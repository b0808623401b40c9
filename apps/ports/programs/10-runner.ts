// Port of 10-runner.py (the asyncio docs' Runner program) to aioloop.
// Runner.run() returns a promise (the loop cannot block the thread) and
// `await using` stands for `with`, since close() is asynchronous here.
import { RuntimeError, currentTask, getRunningLoop, sleep } from '@aioloop/core';
import { Runner } from '@aioloop/policy';

let backgroundTicks = 0;

async function background(): Promise<void> {
  try {
    while (true) {
      await sleep(0.001);
      backgroundTicks += 1;
    }
  } finally {
    console.log('background: cancelled at close:', currentTask()!.cancelling() ? 'yes' : 'no');
  }
}

async function main(): Promise<string> {
  await sleep(0.01);
  console.log('hello');
  getRunningLoop().createTask(background);
  return 'first';
}

async function second(): Promise<string> {
  const ticksBefore = backgroundTicks;
  await sleep(0.01);
  console.log('background ran during the second run:', backgroundTicks > ticksBefore ? 'yes' : 'no');
  return 'second';
}

let runner: Runner;
let loop;
{
  await using r = new Runner({ debug: true });
  runner = r;
  loop = runner.getLoop();
  console.log('debug:', loop.getDebug() ? 'yes' : 'no');
  console.log(await runner.run(main));
  console.log('same loop:', runner.getLoop() === loop ? 'yes' : 'no');
  console.log(await runner.run(second));
  console.log('loop closed inside the with block:', loop.isClosed() ? 'yes' : 'no');
}

console.log('loop closed after it:', loop.isClosed() ? 'yes' : 'no');
try {
  await runner.run(main);
} catch (exc) {
  if (!(exc instanceof RuntimeError)) throw exc;
  console.log('RuntimeError:', exc.message);
}
