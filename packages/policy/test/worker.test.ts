import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLoop, wrapFuture } from '@aioloop/core';
import { DefaultEventLoopPolicy, getEventLoop, getEventLoopPolicy, setEventLoop, setEventLoopPolicy } from '../src/index.js';

const workerScript = fileURLToPath(new URL('./fixtures/policy-worker.mjs', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.json', import.meta.url));

interface WorkerReport {
  threadId: number;
  policyClass: string;
  getEventLoopBeforeSet: string;
  getEventLoopAfterSet: string;
  runningInsideRun: string;
  getEventLoopAfterRun: string;
}

const loops: EventLoop[] = [];
const workers: Worker[] = [];
afterEach(async () => {
  setEventLoopPolicy(null);
  for (const worker of workers.splice(0)) await worker.terminate();
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

/** Starts the fixture in a real worker thread and resolves with what it reports. */
function runWorker(): Promise<WorkerReport> {
  const worker = new Worker(workerScript, { workerData: { tsconfig }, execArgv: [], env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig } });
  workers.push(worker);
  return new Promise<WorkerReport>((resolve, reject) => {
    worker.once('message', (report: WorkerReport) => resolve(report));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
  });
}

describe('policies and current loops are per thread', () => {
  it('a loop set (and running) in the main thread is not the current loop of a worker thread', async () => {
    const mainLoop = new EventLoop({ debug: false });
    loops.push(mainLoop);
    setEventLoop(mainLoop);
    // Run the main thread's loop for the whole life of the worker.
    const report = await mainLoop.runUntilComplete(async () => {
      const result = await wrapFuture(runWorker());
      return { result, insideMain: getEventLoop() === mainLoop };
    });
    expect(report.insideMain).toBe(true);
    const worker = report.result;
    expect(worker.threadId).toBeGreaterThan(0);
    expect(worker.getEventLoopBeforeSet).toBe(
      `RuntimeError: There is no current event loop in thread 'Worker-${worker.threadId}'. ` +
        'Call setEventLoop(newEventLoop()) first, start the program with run(main), ' +
        'or call getEventLoop() from code the loop runs (a callback or a task)',
    );
    expect(worker.getEventLoopAfterSet).toBe('own loop');
    expect(worker.runningInsideRun).toBe('the run() loop');
    // run() replaced the worker's current loop and cleared it when done, as asyncio.run does.
    expect(worker.getEventLoopAfterRun).toMatch(/^RuntimeError: There is no current event loop in thread 'Worker-\d+'/);
    // The worker setting and clearing its current loop did not touch ours.
    expect(getEventLoop()).toBe(mainLoop);
  });

  it('a policy installed in the main thread does not apply in a worker thread', async () => {
    class MainOnlyPolicy extends DefaultEventLoopPolicy {}
    const policy = new MainOnlyPolicy();
    setEventLoopPolicy(policy);
    const report = await runWorker();
    expect(report.policyClass).toBe('DefaultEventLoopPolicy');
    expect(getEventLoopPolicy()).toBe(policy);
  });
});
