// Port of 11-taskgroup-wait-shield.py (the asyncio docs' TaskGroup, wait and
// shield programs) to aioloop. `async with asyncio.TaskGroup() as tg:` is
// `await TaskGroup.run(async (tg) => { ... })` (the group must see the body's
// error, which `await using` does not give it), and an ExceptionGroup is an
// AggregateError (docs/mapping.md).
import {
  CancelledError,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  TaskGroup,
  createTask,
  getRunningLoop,
  shield,
  sleep,
  wait,
  type Future,
  type Task,
} from '@aioloop/core';
import { run } from '@aioloop/policy';

async function someCoro(value: string, delay = 0.01): Promise<string> {
  await sleep(delay);
  return value;
}

async function fails(message: string): Promise<never> {
  await sleep(0.01);
  throw new RangeError(message);
}

async function slow(name: string): Promise<void> {
  try {
    await sleep(3600);
  } catch (exc) {
    if (exc instanceof CancelledError) console.log(name, 'cancelled');
    throw exc;
  }
}

async function gated<T>(gate: Future<null>, value: T): Promise<T> {
  // Finishes when main() opens the gate: no race between timers decides
  // what is printed first.
  await gate;
  return value;
}

async function something(gate: Future<null>): Promise<string> {
  await gate;
  console.log('something(): finished despite the cancellation');
  return 'shielded result';
}

const pyList = (items: unknown[]): string => `[${items.map((i) => `'${String(i)}'`).join(', ')}]`;

async function main(): Promise<void> {
  let task1!: Task<string>;
  let task2!: Task<string>;
  await TaskGroup.run((tg) => {
    task1 = tg.createTask(() => someCoro('one'));
    task2 = tg.createTask(() => someCoro('two', 0.005));
  });
  console.log(`Both tasks have completed now: ${task1.result()}, ${task2.result()}`);

  // A failing task cancels the others and the group raises an AggregateError.
  try {
    await TaskGroup.run((tg) => {
      tg.createTask(() => slow('slow task'));
      tg.createTask(() => fails('bad input'));
    });
  } catch (eg) {
    if (!(eg instanceof AggregateError)) throw eg;
    console.log('ExceptionGroup:', eg.message + ';', pyList(eg.errors.map((e: Error) => e.message)));
  }

  // wait(): the first to complete, the rest keep running.
  let gate = getRunningLoop().createFuture<null>();
  const fast = createTask(() => someCoro('fast', 0.005));
  const late = createTask(() => gated(gate, 'late'));
  let [done, pending] = await wait(new Set([fast, late]), { returnWhen: FIRST_COMPLETED });
  console.log('done:', pyList([...done].map((t) => t.result())), 'pending:', pending.size);
  [done, pending] = await wait(pending, { timeout: 0.001 });
  console.log('after a short timeout: done', done.size, 'pending', pending.size);
  gate.setResult(null);
  [done, pending] = await wait(pending);
  console.log('all done:', pyList([...done].map((t) => t.result())));

  // FIRST_EXCEPTION
  const bad = createTask(() => fails('first error'));
  const waiting = createTask(() => slow('waiting task'));
  const [failed, rest] = await wait<Task<void>>([bad, waiting], { returnWhen: FIRST_EXCEPTION });
  console.log('first exception:', pyList([...failed].map((t) => (t.exception() as Error).message)), 'pending:', rest.size);
  waiting.cancel();
  await wait([waiting]);

  // shield(): cancelling the outer await leaves the inner task running.
  gate = getRunningLoop().createFuture<null>();
  const inner = createTask(() => something(gate));
  const outer = createTask(() => shielded(inner));
  await sleep(0.005);
  outer.cancel();
  try {
    await outer;
  } catch (exc) {
    if (!(exc instanceof CancelledError)) throw exc;
    console.log('outer cancelled; inner cancelled:', inner.cancelled() ? 'yes' : 'no');
  }
  gate.setResult(null);
  console.log('inner result:', await inner);
}

async function shielded(inner: Task<string>): Promise<string> {
  return await shield(inner);
}

await run(main);
