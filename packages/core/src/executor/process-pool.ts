/**
 * {@link ProcessPoolExecutor}: Python's `concurrent.futures.ProcessPoolExecutor`
 * on child Node processes.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { deserialize, serialize } from 'node:v8';
import { argumentError, checkPoolOptions, decodeThrown, WorkerPoolExecutor } from './executor.js';
import type { EncodedThrown, JobReply, PoolJob, PoolWorkerEvents, PoolWorkerHandle } from './executor.js';
import type { PreparedCallable } from './worker-function.js';
import { WORKER_RUNTIME_SOURCE } from './worker-function.js';

/** Options for {@link ProcessPoolExecutor}. */
export interface ProcessPoolExecutorOptions {
  /** The most processes run at once. Default: `os.availableParallelism()`, as Python. */
  readonly maxWorkers?: number;
  /**
   * A process that stayed idle this long is ended (a later job starts a new
   * one). Default 60 000 ms; `Infinity` keeps processes until shutdown. Idle
   * processes never keep the Node process alive either way.
   */
  readonly idleTimeoutMs?: number;
  /** Names the workers `<name>_0`, `<name>_1`, ... in error messages. Default `ProcessPoolExecutor-<n>`. */
  readonly name?: string;
}

/**
 * The child's program, run with `node -e`. It is plain CommonJS script code.
 * Arguments and results travel as `v8.serialize()` buffers, so a result that
 * cannot be copied is reported instead of breaking the IPC channel. The child
 * exits when the channel closes (the parent exited or ended it).
 */
const PROCESS_WORKER_SOURCE = `'use strict';
const v8 = require('node:v8');
${WORKER_RUNTIME_SOURCE}
const runtime = __aioloopCreateRuntime((value) => {
  try { v8.serialize(value); return true; } catch { return false; }
});
function reply(message) {
  if (process.connected) process.send(message);
}
process.on('message', (msg) => {
  if (msg === null || typeof msg !== 'object' || msg.type !== 'run') return;
  const id = msg.id;
  new Promise((resolve) => resolve(v8.deserialize(msg.args)))
    .then((args) => runtime.run(msg.callable, args))
    .then(
      (value) => {
        let payload;
        try {
          payload = v8.serialize(value);
        } catch (error) {
          reply({ type: 'result', id, ok: false, unsendable: runtime.encodeThrown(error) });
          return;
        }
        reply({ type: 'result', id, ok: true, payload });
      },
      (error) => reply({ type: 'result', id, ok: false, error: runtime.encodeThrown(error) }),
    );
});
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (error) => {
  const exit = () => process.exit(70);
  setTimeout(exit, 2000).unref();
  try {
    process.send({ type: 'uncaught', error: runtime.encodeThrown(error) }, exit);
  } catch {
    exit();
  }
});
`;

type ChildMessage =
  | ({ readonly type: 'result'; readonly id: number } & (
      | { readonly ok: true; readonly payload: Uint8Array }
      | { readonly ok: false; readonly error: EncodedThrown }
      | { readonly ok: false; readonly unsendable: EncodedThrown }
    ))
  | { readonly type: 'uncaught'; readonly error: EncodedThrown };

let poolCounter = 0;

/**
 * Runs functions in a pool of child Node processes (Python's
 * `ProcessPoolExecutor`). Each worker is `node -e <worker program>` started
 * from `process.execPath` with an IPC channel using `serialization: 'advanced'`;
 * its stdout and stderr are the parent's. Use it rather than
 * {@link ThreadPoolExecutor} when jobs may crash, leak, call `process.exit()`
 * or `process.chdir()`, or need their own process-wide state.
 *
 * Functions are sent as described in `docs/executors.md`. Arguments are copied
 * with `v8.serialize()` (the structured clone algorithm) at `submit()` time;
 * results come back the same way. `SharedArrayBuffer` cannot be sent to a process.
 *
 * Processes start lazily, one per queued job up to `maxWorkers`, are reused,
 * and take jobs in FIFO order. An idle process does not keep the parent alive.
 */
export class ProcessPoolExecutor extends WorkerPoolExecutor<Buffer> {
  /** Creates a pool; no process starts before the first `submit()`. */
  constructor(options: ProcessPoolExecutorOptions = {}) {
    super(...checkPoolOptions(options, 'ProcessPoolExecutor', availableParallelism(), () => `ProcessPoolExecutor-${poolCounter++}`));
  }

  /** @internal */
  protected encodeArgs(args: readonly unknown[], callable: PreparedCallable): Buffer {
    try {
      return serialize(args);
    } catch (error) {
      throw argumentError(args, error, callable.label, (value) => serialize(value));
    }
  }

  /** @internal */
  protected disposePayload(): void {
    // A Buffer needs no release.
  }

  /** @internal */
  protected startWorker(_name: string, events: PoolWorkerEvents): PoolWorkerHandle<Buffer> {
    const child: ChildProcess = spawn(process.execPath, ['-e', PROCESS_WORKER_SOURCE], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      windowsHide: true,
    });
    let current: PoolJob<Buffer> | undefined;
    let crash: unknown;
    // Bun's IPC channel object has no ref()/unref() (its child.ref()/unref() cover the channel).
    const channel = child.channel as Partial<Pick<NonNullable<ChildProcess['channel']>, 'ref' | 'unref'>> | null | undefined;
    const setRef = (ref: boolean): void => {
      if (ref) {
        child.ref();
        if (typeof channel?.ref === 'function') channel.ref();
      } else {
        child.unref();
        if (typeof channel?.unref === 'function') channel.unref();
      }
    };
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'uncaught') {
        crash = decodeThrown(message.error);
        return;
      }
      const job = current;
      if (job === undefined || message.id !== job.id) return;
      current = undefined;
      let reply: JobReply;
      if (!message.ok) {
        reply = message;
      } else {
        try {
          reply = { ok: true, value: deserialize(message.payload) };
        } catch (error) {
          reply = {
            ok: false,
            unsendable: { $error: true, name: 'Error', message: String(error), props: {} },
          };
        }
      }
      events.settled(reply);
    });
    // 'close' (not 'exit') comes after the IPC channel was drained, so a reply
    // or crash report sent just before exiting is not lost.
    child.on('close', (exitCode: number | null, signal: NodeJS.Signals | null) => {
      current = undefined;
      events.exited(crash === undefined ? { exitCode, signal } : { exitCode, signal, error: crash });
    });
    child.on('error', (error: Error) => {
      if (child.pid === undefined) {
        // It never started (spawn failed); 'close' may not follow.
        current = undefined;
        events.exited({ exitCode: null, signal: null, error });
      }
    });
    setRef(false);
    return {
      run(job) {
        current = job;
        child.send({ type: 'run', id: job.id, callable: job.callable.wire, args: job.payload }, (error) => {
          // The child is gone; 'close' reports it.
          if (error !== null && error !== undefined && child.exitCode === null) child.kill('SIGKILL');
        });
      },
      setRef,
      terminate() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      },
    };
  }
}
