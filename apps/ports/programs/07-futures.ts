// Port of 07-futures.py (the asyncio docs' future programs) to aioloop.
import { CancelledError, InvalidStateError, getRunningLoop, sleep, type Future } from '@aioloop/core';
import { run } from '@aioloop/policy';

// Python's KeyError, which JavaScript does not have.
class KeyError extends Error {}

async function setAfter(fut: Future<string>, delay: number, value: string): Promise<void> {
  // Sleep for *delay* seconds.
  await sleep(delay);

  // Set *value* as a result of *fut* Future.
  fut.setResult(value);
}

function onDone(name: string, fut: Future<unknown>): void {
  const state = fut.cancelled() ? 'cancelled' : `result ${fut.result()}`;
  console.log('done callback', name + ':', state);
}

async function main(): Promise<void> {
  // Get the current event loop.
  const loop = getRunningLoop();

  // Create a new Future object.
  const fut = loop.createFuture<string>();

  // Run "setAfter()" coroutine in a parallel Task.
  loop.createTask(() => setAfter(fut, 0.01, '... world'));

  console.log('hello ...');

  // Wait until *fut* has a result and print it.
  console.log(await fut);

  // A future completed by a callback the loop calls soon.
  const answer = loop.createFuture<number>();
  answer.addDoneCallback((f) => onDone('first', f));
  answer.addDoneCallback((f) => onDone('second', f));
  console.log('pending:', !answer.done() ? 'yes' : 'no');
  try {
    answer.result();
  } catch (exc) {
    if (!(exc instanceof InvalidStateError)) throw exc;
    console.log('InvalidStateError:', exc.message);
  }
  // asyncio passes fut.set_result itself; a detached method does not compile here.
  loop.callSoon((v: number) => answer.setResult(v), 42);
  console.log('awaited', await answer);
  try {
    answer.setResult(43);
  } catch (exc) {
    if (!(exc instanceof InvalidStateError)) throw exc;
    // CPython says 'invalid state'; aioloop adds ': finished future cannot
    // take a result'. The part both have is compared.
    console.log('InvalidStateError:', exc.message.split(':')[0]);
  }
  await sleep(0);

  // A future that fails, from a timer.
  const failing = loop.createFuture<never>();
  loop.callLater(0.01, (e: Error) => failing.setException(e), new KeyError('missing'));
  try {
    await failing;
  } catch (exc) {
    if (!(exc instanceof KeyError)) throw exc;
    console.log('awaiting raised KeyError:', exc.message);
  }
  console.log('exception() is it:', failing.exception() instanceof KeyError ? 'yes' : 'no');

  // A cancelled future.
  const cancelled = loop.createFuture<void>();
  cancelled.addDoneCallback((f) => onDone('third', f));
  console.log('cancel:', cancelled.cancel() ? 'yes' : 'no');
  console.log('cancel again:', cancelled.cancel() ? 'yes' : 'no');
  try {
    await cancelled;
  } catch (exc) {
    if (!(exc instanceof CancelledError)) throw exc;
    console.log('awaiting raised CancelledError');
  }
  try {
    cancelled.exception();
  } catch (exc) {
    if (!(exc instanceof CancelledError)) throw exc;
    console.log('exception() raised CancelledError');
  }

  // Removing a done callback.
  const last = loop.createFuture<null>();
  last.addDoneCallback(console.log);
  last.addDoneCallback(console.log);
  console.log('removed', last.removeDoneCallback(console.log), 'callbacks');
  last.setResult(null);
  await sleep(0);
  console.log('end');
}

await run(main);
