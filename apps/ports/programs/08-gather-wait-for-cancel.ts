// Port of 08-gather-wait-for-cancel.py (the asyncio docs' gather, wait_for and
// cancellation programs) to aioloop. asyncio's helpers take coroutine objects
// (`factorial("A", 2)`); aioloop's take the async function (`() => factorial('A', 2)`),
// which they start in a task and can cancel: a called async function has
// already started and cannot be cancelled (docs/mapping.md).
import { CancelledError, TimeoutError, createTask, gather, sleep, waitFor } from '@aioloop/core';
import { run } from '@aioloop/policy';

async function factorial(name: string, number: number): Promise<number> {
  let f = 1;
  for (let i = 2; i <= number; i++) {
    console.log(`Task ${name}: Compute factorial(${number}), currently i=${i}...`);
    await sleep(0.01);
    f *= i;
  }
  console.log(`Task ${name}: factorial(${number}) = ${f}`);
  return f;
}

async function eternity(): Promise<void> {
  // Sleep for one hour
  await sleep(3600);
  console.log('yay!');
}

async function cancelMe(): Promise<void> {
  console.log('cancel_me(): before sleep');

  try {
    // Wait for 1 hour
    await sleep(3600);
  } catch (exc) {
    if (exc instanceof CancelledError) console.log('cancel_me(): cancel sleep');
    throw exc;
  } finally {
    console.log('cancel_me(): after sleep');
  }
}

async function fail(message: string): Promise<never> {
  await sleep(0.01);
  throw new RangeError(message);
}

async function main(): Promise<void> {
  // Schedule three calls *concurrently*:
  const L = await gather(
    () => factorial('A', 2),
    () => factorial('B', 3),
    () => factorial('C', 4),
  );
  console.log(`[${L.join(', ')}]`);

  // Wait for at most 10 ms
  try {
    await waitFor(eternity, 0.01);
  } catch (exc) {
    if (!(exc instanceof TimeoutError)) throw exc;
    console.log('timeout!');
  }

  // Create a "cancelMe" Task
  const task = createTask(cancelMe);

  // Wait for 10 ms
  await sleep(0.01);

  task.cancel();
  try {
    await task;
  } catch (exc) {
    if (!(exc instanceof CancelledError)) throw exc;
    console.log('main(): cancel_me is cancelled now');
  }
  console.log('task cancelled:', task.cancelled() ? 'yes' : 'no');

  // gather() with returnExceptions: failures are results.
  const results = await gather(() => factorial('D', 2), () => fail('boom'), { returnExceptions: true });
  const error = results[1] as Error;
  // Python's ValueError is a RangeError here (docs/mapping.md).
  console.log('results:', results[0], error instanceof RangeError ? 'ValueError' : error.name, error.message);

  // Without it, the first failure propagates; the others keep running.
  const others = createTask(() => factorial('E', 3));
  try {
    await gather(() => fail('first'), others);
  } catch (exc) {
    if (!(exc instanceof RangeError)) throw exc;
    console.log('gather raised:', exc.message);
  }
  console.log('E still running:', !others.done() ? 'yes' : 'no');
  console.log('E =', await others);

  // Cancelling a gather() cancels its children.
  const child = createTask(eternity);
  const outer = gather(child);
  await sleep(0);
  outer.cancel();
  try {
    await outer;
  } catch (exc) {
    if (!(exc instanceof CancelledError)) throw exc;
    console.log('gather cancelled; child cancelled:', child.cancelled() ? 'yes' : 'no');
  }
}

await run(main);
