import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  EventLoop,
  Task,
  allTasks,
  currentTask,
  getRunningLoop,
  sleep,
  type ExceptionContext,
  type TaskFunction,
  type TaskOptions,
} from '../src/index.js';
import { newLoop } from './support.js';


describe('task start', () => {
  it('starts on the loop in a later iteration, never synchronously', async () => {
    const loop = newLoop();
    const seen: string[] = [];
    const task = loop.createTask(async () => {
      seen.push('body');
      return 1;
    });
    seen.push('created');
    expect(await loop.runUntilComplete(task)).toBe(1);
    expect(seen).toEqual(['created', 'body']);
  });

  it('has a name (default Task-N) that can be changed', async () => {
    const loop = newLoop();
    const a = loop.createTask(async () => {}, { name: 'worker' });
    const b = loop.createTask(async () => {});
    expect(a.getName()).toBe('worker');
    expect(b.getName()).toMatch(/^Task-\d+$/);
    b.setName('renamed');
    expect(b.getName()).toBe('renamed');
    expect(String(a)).toMatch(/<Task worker pending>/);
    await loop.runUntilComplete(b);
    await loop.runUntilComplete(a);
  });

  it('rejects a promise, a non-function, or a bad name with a clear TypeError', () => {
    const loop = newLoop();
    expect(() => loop.createTask(Promise.resolve(1) as never)).toThrow(/not a promise: a promise is already running/);
    expect(() => loop.createTask(42 as never)).toThrow(/takes an async function, got 42/);
    expect(() => loop.createTask(async () => {}, { name: 7 as never })).toThrow(/name must be a string/);
  });

  it('getRunningLoop() and currentTask() work inside a task, also after await', async () => {
    const loop = newLoop();
    const result = await loop.runUntilComplete(async () => {
      const before = [getRunningLoop(), currentTask()];
      await sleep(0.001);
      const after = [getRunningLoop(), currentTask()];
      return { before, after, me: currentTask() };
    });
    expect(result.before[0]).toBe(loop);
    expect(result.after[0]).toBe(loop);
    expect(result.before[1]).toBeInstanceOf(Task);
    expect(result.after[1]).toBe(result.before[1]);
  });

  it('a pending task is held by the loop (never collected) and listed by allTasks', async () => {
    const loop = newLoop();
    const fut = loop.createFuture<void>();
    const seen = await loop.runUntilComplete(async () => {
      const t = loop.createTask(async () => {
        await fut;
      });
      await sleep(0);
      const listed = allTasks().has(t as Task<unknown>);
      fut.setResult();
      await t;
      return [listed, allTasks().has(t as Task<unknown>)];
    });
    expect(seen).toEqual([true, false]);
  });
});

describe('task resumption order', () => {
  it('resumes in the loop callback that wakes it: X, task resumed, Y', async () => {
    const loop = newLoop();
    const order: string[] = [];
    const fut = loop.createFuture<void>();
    const task = loop.createTask(async () => {
      await fut;
      order.push('task resumed');
      await sleep(0);
      order.push('task second step');
    });
    loop.callSoon(() => {
      loop.callSoon(function X() {
        order.push('X');
        fut.setResult();
        loop.callSoon(function Y() {
          order.push('Y');
        });
      });
    });
    await loop.runUntilComplete(task);
    expect(order).toEqual(['X', 'task resumed', 'Y', 'task second step']);
  });

  it('stop() in the iteration whose last callback wakes a task stops right after that step', async () => {
    const loop = newLoop();
    const order: string[] = [];
    const fut = loop.createFuture<void>();
    loop.createTask(async () => {
      await fut;
      order.push('task resumed');
      loop.callSoon(() => order.push('next iteration'));
    });
    loop.callSoon(() =>
      loop.callSoon(() => {
        loop.callSoon(() => loop.stop());
        fut.setResult(); // the task's wakeup is queued after the stop callback
      }),
    );
    await loop.runForever();
    expect(order).toEqual(['task resumed']);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(order).toEqual(['task resumed', 'next iteration']);
  });

  it('steps through nested async calls before the next callback', async () => {
    const loop = newLoop();
    const order: string[] = [];
    const fut = loop.createFuture<number>();
    async function inner(): Promise<number> {
      const v = await fut;
      order.push('inner resumed');
      return v + 1;
    }
    async function middle(): Promise<number> {
      const v = await inner();
      order.push('middle resumed');
      return v + 1;
    }
    const task = loop.createTask(async () => {
      const v = await middle();
      order.push(`outer resumed ${v}`);
    });
    loop.callSoon(() =>
      loop.callSoon(() => {
        fut.setResult(1);
        loop.callSoon(() => order.push('Y'));
      }),
    );
    await loop.runUntilComplete(task);
    expect(order).toEqual(['inner resumed', 'middle resumed', 'outer resumed 3', 'Y']);
  });

  it('awaiting an already done future does not yield to the loop', async () => {
    const loop = newLoop();
    const order: string[] = [];
    const done = loop.createFuture<number>();
    done.setResult(1);
    const task = loop.createTask(async () => {
      loop.callSoon(() => order.push('callback'));
      await done;
      order.push('after await of done future');
    });
    await loop.runUntilComplete(task);
    expect(order).toEqual(['after await of done future', 'callback']);
  });

  it('tasks interleave at awaits in a deterministic order', async () => {
    const loop = newLoop();
    const order: string[] = [];
    const worker = (name: string) => async () => {
      for (let i = 0; i < 3; i++) {
        order.push(`${name}${i}`);
        await sleep(0);
      }
    };
    const a = loop.createTask(worker('a'));
    const b = loop.createTask(worker('b'));
    await loop.runUntilComplete(async () => {
      await a;
      await b;
    });
    expect(order).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  });
});

describe('fairness', () => {
  it('tasks waking each other forever do not starve Node I/O or timers', async () => {
    const loop = newLoop();
    let nodeTimerRan = false;
    let rounds = 0;
    await loop.runUntilComplete(async () => {
      let ping = loop.createFuture<void>();
      let pong = loop.createFuture<void>();
      const a = loop.createTask(async () => {
        while (!nodeTimerRan) {
          ping.setResult();
          await pong;
          pong = loop.createFuture<void>();
          rounds++;
          // Armed once they are ping-ponging (not before: a loaded machine may run it first).
          if (rounds === 10) setTimeout(() => (nodeTimerRan = true), 5);
        }
      });
      const b = loop.createTask(async () => {
        while (!nodeTimerRan) {
          await ping;
          ping = loop.createFuture<void>();
          pong.setResult();
        }
        if (!pong.done()) pong.setResult();
      });
      await a;
      await b;
    });
    expect(nodeTimerRan).toBe(true);
    expect(rounds).toBeGreaterThan(10);
  });
});

describe('task cancellation', () => {
  it('a task cancelled before it starts never runs its body', async () => {
    const loop = newLoop();
    let ran = false;
    const task = loop.createTask(async () => {
      ran = true;
    });
    expect(task.cancel('early')).toBe(true);
    await expect(loop.runUntilComplete(task)).rejects.toThrow(CancelledError);
    expect(ran).toBe(false);
    expect(task.cancelled()).toBe(true);
  });

  it('delivers CancelledError at the current await so try/finally runs', async () => {
    const loop = newLoop();
    const order: string[] = [];
    const task = loop.createTask(async () => {
      try {
        order.push('started');
        await sleep(3600);
        order.push('not reached');
      } finally {
        order.push('finally');
      }
    });
    loop.callLater(0.005, () => task.cancel('shutdown'));
    let error: unknown;
    try {
      await loop.runUntilComplete(task);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe('shutdown');
    expect(order).toEqual(['started', 'finally']);
    expect(task.cancelled()).toBe(true);
  });

  it('reaches through plain nested async calls inside the task', async () => {
    const loop = newLoop();
    const order: string[] = [];
    async function deep(): Promise<void> {
      try {
        await sleep(3600);
      } finally {
        order.push('deep finally');
      }
    }
    async function mid(): Promise<void> {
      try {
        await deep();
      } finally {
        order.push('mid finally');
      }
    }
    const task = loop.createTask(mid);
    loop.callLater(0.002, () => task.cancel());
    await expect(loop.runUntilComplete(task)).rejects.toThrow(CancelledError);
    expect(order).toEqual(['deep finally', 'mid finally']);
  });

  it('a task that catches CancelledError and returns a value is not cancelled', async () => {
    const loop = newLoop();
    const task = loop.createTask(async () => {
      try {
        await sleep(3600);
        return 'finished';
      } catch (e) {
        if (e instanceof CancelledError) return `caught ${e.message}`;
        throw e;
      }
    });
    loop.callLater(0.002, () => task.cancel('please'));
    expect(await loop.runUntilComplete(task)).toBe('caught please');
    expect(task.cancelled()).toBe(false);
  });

  it('a cancel that arrives after the awaited future completed, before the task resumed, is delivered at that await', async () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    const seen: string[] = [];
    const task = loop.createTask(async () => {
      try {
        const v = await fut;
        seen.push(`resumed with ${v}`);
      } catch (e) {
        seen.push(e instanceof CancelledError ? `cancelled: ${e.message}` : 'other');
        return 'handled';
      }
      return 'not cancelled';
    });
    loop.callLater(0.002, () => {
      fut.setResult(1); // the task's wakeup is now queued...
      task.cancel('late'); // ...and the cancel comes before it runs
    });
    expect(await loop.runUntilComplete(task)).toBe('handled');
    expect(seen).toEqual(['cancelled: late']);
  });

  it('a task that cancels itself is cancelled at its next await', async () => {
    const loop = newLoop();
    let reached = false;
    const task = loop.createTask(async () => {
      currentTask()!.cancel();
      await sleep(0);
      reached = true;
    });
    await expect(loop.runUntilComplete(task)).rejects.toThrow(CancelledError);
    expect(reached).toBe(false);
  });

  it('cancel() returns false once done; cancelling/uncancel count requests', async () => {
    const loop = newLoop();
    const task = loop.createTask(async () => {
      const me = currentTask() as Task<unknown>;
      try {
        await sleep(3600);
      } catch {
        const counts = [me.cancelling()];
        counts.push(me.uncancel());
        return counts;
      }
      return [];
    });
    loop.callLater(0.002, () => {
      task.cancel();
    });
    expect(await loop.runUntilComplete(task)).toEqual([1, 0]);
    expect(task.cancel()).toBe(false);
  });

  it('cancelling a task cancels the task it awaits', async () => {
    const loop = newLoop();
    const inner = loop.createTask(() => sleep(3600));
    const outer = loop.createTask(async () => {
      await inner;
    });
    loop.callLater(0.002, () => outer.cancel());
    await expect(loop.runUntilComplete(outer)).rejects.toThrow(CancelledError);
    expect(inner.cancelled()).toBe(true);
  });

  it('exposes an AbortSignal that aborts when the task is cancelled', async () => {
    const loop = newLoop();
    const { setTimeout: delay } = await import('node:timers/promises');
    const task = loop.createTask(async () => {
      // A Node API that takes a signal is cancelled together with the task.
      await delay(3_600_000, undefined, { signal: currentTask()!.signal });
    });
    loop.callLater(0.005, () => task.cancel('abort it'));
    await expect(loop.runUntilComplete(task)).rejects.toThrow(CancelledError);
    expect(task.cancelled()).toBe(true);
    expect(task.signal.aborted).toBe(true);
    expect((task.signal.reason as Error).message).toBe('abort it');
  });
});

describe('foreign promises inside tasks', () => {
  it('a task awaiting wrapFuture(promise) stays cancellable and known to the loop', async () => {
    const loop = newLoop();
    const { wrapFuture } = await import('../src/index.js');
    let seenTask: unknown = 'unset';
    const task = loop.createTask(async () => {
      await wrapFuture(new Promise((r) => setTimeout(r, 5)));
      seenTask = currentTask();
      await wrapFuture(new Promise(() => {})); // never settles: only cancel ends it
    });
    loop.callLater(0.05, () => task.cancel('enough'));
    await expect(loop.runUntilComplete(task)).rejects.toThrow('enough');
    expect(seenTask).toBe(task);
  });

  it('debug mode warns when a task awaits a promise the loop cannot see', async () => {
    const loop = newLoop();
    loop.setDebug(true);
    const { setLogger } = await import('../src/index.js');
    const warnings: string[] = [];
    setLogger({ debug() {}, warn: (m) => warnings.push(m), error() {} });
    try {
      await loop.runUntilComplete(async () => {
        await new Promise((r) => setTimeout(r, 5));
      });
    } finally {
      setLogger(null);
    }
    expect(warnings.join('\n')).toMatch(/awaiting something that is not an aioloop Future.*wrapFuture/);
  });
});

describe('task outcomes', () => {
  it('an exception in the task fails it and reaches whoever awaits it', async () => {
    const loop = newLoop();
    const task = loop.createTask(async () => {
      await sleep(0);
      throw new RangeError('inside');
    });
    await expect(loop.runUntilComplete(task)).rejects.toThrow(RangeError);
    expect((task.exception() as Error).message).toBe('inside');
  });

  it('tasks cannot be completed from outside', () => {
    const loop = newLoop();
    const task = loop.createTask(async () => 1);
    expect(() => task.setResult(2)).toThrow(/does not support setResult/);
    expect(() => task.setException(new Error())).toThrow(/does not support setException/);
  });

  it('a task exception never retrieved is reported when the task is collected', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('tests must run with --expose-gc');
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    await loop.runUntilComplete(async () => {
      loop.createTask(async () => {
        throw new Error('nobody looks');
      });
      await sleep(0.001);
    });
    for (let i = 0; i < 20 && contexts.length === 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(contexts.map((c) => c.message)).toContain('Task exception was never retrieved');
  });
});

describe('task factory', () => {
  it('setTaskFactory replaces how createTask builds tasks; null restores it', async () => {
    const loop = newLoop();
    const made: string[] = [];
    const factory = <T>(l: EventLoop, fn: TaskFunction<T>, options: TaskOptions): Task<T> => {
      made.push(options.name ?? '?');
      return new Task(fn, { ...options, loop: l });
    };
    loop.setTaskFactory(factory);
    expect(loop.getTaskFactory()).toBe(factory);
    const t = loop.createTask(async () => 5, { name: 'custom' });
    expect(await loop.runUntilComplete(t)).toBe(5);
    expect(made).toEqual(['custom']);
    loop.setTaskFactory(null);
    expect(loop.getTaskFactory()).toBeNull();
    expect(() => loop.setTaskFactory(3 as never)).toThrow(TypeError);
  });
});

describe('sleep', () => {
  it('resolves with the value after the delay', async () => {
    const loop = newLoop();
    const start = loop.time();
    const v = await loop.runUntilComplete(() => sleep(0.02, 'late'));
    expect(v).toBe('late');
    expect(loop.time() - start).toBeGreaterThanOrEqual(0.02);
    expect(() => sleep(Number.NaN)).toThrow(/sleep\(\): delay must be a number/);
  });

  it('cancelling a sleep cancels its timer', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const s = sleep(3600);
      await sleep(0);
      s.cancel();
      await sleep(0);
    });
    expect(loop._timers.length).toBe(0);
  });
});
