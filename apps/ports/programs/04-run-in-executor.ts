// Port of 04-run-in-executor.py (the asyncio docs' run_in_executor program) to aioloop.
// Node workers share no memory with the loop: a function sent to an executor is
// sent as source text, so it must be self-contained (its imports are require()d
// inside it), and arguments and results are copied (packages/core/docs/executors.md).
import { ProcessPoolExecutor, ThreadPoolExecutor, getRunningLoop } from '@aioloop/core';
import { run } from '@aioloop/policy';

function blockingIo(): Buffer {
  // File operations (such as logging) can block the
  // event loop: run them in a thread pool.
  const fs = require('node:fs') as typeof import('node:fs');
  const fd = fs.openSync('/dev/urandom', 'r');
  try {
    const buf = Buffer.alloc(100);
    const n = fs.readSync(fd, buf, 0, 100, null);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function cpuBound(): number {
  // CPU-bound operations will block the event loop:
  // in general it is preferable to run them in a
  // process pool.
  let sum = 0;
  for (let i = 0; i < 10 ** 5; i++) sum += i * i;
  return sum;
}

function fails(n: number): never {
  throw new RangeError(`bad value: ${n}`);
}

async function main(): Promise<void> {
  const loop = getRunningLoop();

  // Options:

  // 1. Run in the default loop's executor:
  // The result type is stated: a Buffer comes back from a thread worker as a
  // Uint8Array (structured clone).
  let result = await loop.runInExecutor<Uint8Array>(null, blockingIo);
  console.log('default thread pool', result.length);

  // 2. Run in a custom thread pool:
  {
    await using pool = new ThreadPoolExecutor(); // Python's `with ThreadPoolExecutor() as pool:`
    result = await loop.runInExecutor<Uint8Array>(pool, blockingIo);
    console.log('custom thread pool', result.length);
  }

  // 3. Run in a custom process pool:
  {
    await using pool = new ProcessPoolExecutor();
    const sum = await loop.runInExecutor<number>(pool, cpuBound);
    console.log('custom process pool', sum);
  }

  // An exception raised in the worker reaches the awaiting task.
  try {
    await loop.runInExecutor(null, fails, 7);
  } catch (exc) {
    if (!(exc instanceof RangeError)) throw exc;
    console.log('worker raised:', exc.message);
  }
}

await run(main);
