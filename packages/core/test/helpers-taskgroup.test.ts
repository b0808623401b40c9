import { describe, expect, it } from 'vitest';
import { CancelledError, RuntimeError, TASK_GROUP_ERROR_MESSAGE, TaskGroup, currentTask, sleep, type Task } from '../src/index.js';
import { caught, newVirtualLoop as newLoop } from './support.js';


describe('TaskGroup', () => {
  it('waits for every task before run() resolves with the body result', async () => {
    const loop = newLoop();
    const finished: string[] = [];
    const out = await loop.runUntilComplete(async () => {
      const tasks: Task<number>[] = [];
      const value = await TaskGroup.run(async (tg) => {
        for (const [name, delay] of [['a', 0.02], ['b', 0.005], ['c', 0.01]] as const) {
          tasks.push(
            tg.createTask<number>(
              async () => {
                await sleep(delay);
                finished.push(name);
                return delay;
              },
              { name },
            ),
          );
        }
        return 'body';
      });
      return { value, results: tasks.map((t) => t.result()), names: tasks.map((t) => t.getName()) };
    });
    expect(out.value).toBe('body');
    expect(finished).toEqual(['b', 'c', 'a']);
    expect(out.results).toEqual([0.02, 0.005, 0.01]);
    expect(out.names).toEqual(['a', 'b', 'c']);
  });

  it('a failing task cancels its siblings and the body once, and the errors come out in an AggregateError', async () => {
    const loop = newLoop();
    const boom = new Error('boom');
    const log: string[] = [];
    const out = await loop.runUntilComplete(async () => {
      const parent = currentTask()!;
      let sibling: Task<void> | undefined;
      const error = await caught(
        TaskGroup.run(async (tg) => {
          sibling = tg.createTask(async () => {
            try {
              await sleep(10);
            } finally {
              log.push('sibling finally');
            }
          });
          tg.createTask(async () => {
            await sleep(0.005);
            throw boom;
          });
          try {
            await sleep(10);
          } catch (e) {
            log.push(e instanceof CancelledError ? 'body cancelled' : 'body other');
            throw e;
          }
        }),
      );
      const cancellingAfter = parent.cancelling();
      await sleep(0.002); // the parent task goes on normally
      log.push('parent continues');
      return { error, siblingCancelled: sibling!.cancelled(), cancellingAfter };
    });
    expect(out.error).toBeInstanceOf(AggregateError);
    const aggregate = out.error as AggregateError;
    expect(aggregate.message).toBe(TASK_GROUP_ERROR_MESSAGE);
    expect(aggregate.errors).toEqual([boom]);
    expect(out.siblingCancelled).toBe(true);
    expect(out.cancellingAfter).toBe(0);
    expect(log.sort()).toEqual(['body cancelled', 'parent continues', 'sibling finally']);
  });

  it('collects every task error in the order they happened, excluding CancelledErrors', async () => {
    const loop = newLoop();
    const first = new Error('first');
    const second = new Error('second');
    const error = await loop.runUntilComplete(() =>
      caught(
        TaskGroup.run(async (tg) => {
          tg.createTask(async () => {
            await sleep(1); // cancelled long before: 'first' fails at 5 ms
            throw second;
          });
          tg.createTask(async () => {
            await sleep(0.005);
            throw first;
          });
          // Ignores its cancellation, then fails too while the group shuts down.
          tg.createTask(async () => {
            try {
              await sleep(10);
            } catch {
              await sleep(0.02);
              throw new Error('late');
            }
          });
          // Cancelled only: contributes nothing.
          tg.createTask(() => sleep(10));
        }),
      ),
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['first', 'late']);
  });

  it('a task cancelled on its own is not an error', async () => {
    const loop = newLoop();
    const result = await loop.runUntilComplete(() =>
      TaskGroup.run(async (tg) => {
        const t = tg.createTask(() => sleep(10));
        const ok = tg.createTask(async () => {
          await sleep(0.005);
          return 'ok';
        });
        await sleep(0.001);
        t.cancel();
        return { ok, t };
      }).then(({ ok, t }) => [ok.result(), t.cancelled()]),
    );
    expect(result).toEqual(['ok', true]);
  });

  it('a body that throws cancels the tasks, and its error is included after the tasks errors', async () => {
    const loop = newLoop();
    const bodyError = new Error('body');
    const childError = new Error('child');
    const out = await loop.runUntilComplete(async () => {
      let waiting: Task<void> | undefined;
      const error = await caught(
        TaskGroup.run(async (tg) => {
          waiting = tg.createTask(() => sleep(10));
          tg.createTask(async () => {
            try {
              await sleep(10);
            } finally {
              // eslint-disable-next-line no-unsafe-finally
              throw childError;
            }
          });
          await sleep(0.005);
          throw bodyError;
        }),
      );
      return { error, waitingCancelled: waiting!.cancelled() };
    });
    expect(out.waitingCancelled).toBe(true);
    expect(out.error).toBeInstanceOf(AggregateError);
    expect((out.error as AggregateError).errors).toEqual([childError, bodyError]);
  });

  it('createTask is refused before entering, while shutting down, and after the group finished', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      expect(() => new TaskGroup().createTask(async () => {})).toThrow(/has not been entered/);
      let kept: TaskGroup | undefined;
      await TaskGroup.run(async (tg) => {
        kept = tg;
        tg.createTask(() => sleep(0.001));
      });
      expect(() => kept!.createTask(async () => {})).toThrow(RuntimeError);
      expect(() => kept!.createTask(async () => {})).toThrow(/is finished/);

      let shuttingDown: unknown;
      await caught(
        TaskGroup.run(async (tg) => {
          tg.createTask(async () => {
            await sleep(0.002);
            throw new Error('x');
          });
          try {
            await sleep(10);
          } catch (e) {
            try {
              tg.createTask(async () => {});
            } catch (refused) {
              shuttingDown = refused;
            }
            throw e;
          }
        }),
      );
      expect(shuttingDown).toBeInstanceOf(RuntimeError);
      expect((shuttingDown as Error).message).toMatch(/is shutting down/);
    });
  });

  it('a cancellation of the parent from outside cancels the tasks and propagates as CancelledError', async () => {
    const loop = newLoop();
    let child: Task<void> | undefined;
    const parent = loop.createTask(() =>
      TaskGroup.run(async (tg) => {
        child = tg.createTask(() => sleep(10));
      }),
    );
    loop.callLater(0.005, () => parent.cancel());
    expect(await caught(loop.runUntilComplete(parent))).toBeInstanceOf(CancelledError);
    expect(parent.cancelled()).toBe(true);
    expect(child!.cancelled()).toBe(true);
  });

  it('with task errors and an outside cancel, throws the AggregateError and keeps the outside cancel pending', async () => {
    const loop = newLoop();
    const boom = new Error('boom');
    const log: string[] = [];
    const parent = loop.createTask(async () => {
      const self = currentTask()!;
      const error = await caught(
        TaskGroup.run(async (tg) => {
          tg.createTask(async () => {
            await sleep(0.002);
            throw boom;
          });
          tg.createTask(async () => {
            try {
              await sleep(10);
            } catch {
              // The outside cancel arrives while the group is shutting down.
              self.cancel();
              await sleep(0.002);
            }
          });
          await sleep(10);
        }),
      );
      log.push(`${(error as AggregateError).errors.length} error(s), cancelling=${self.cancelling()}`);
      await sleep(0.001); // the outside cancellation is delivered here
      log.push('not reached');
    });
    expect(await caught(loop.runUntilComplete(parent))).toBeInstanceOf(CancelledError);
    expect(log).toEqual(['1 error(s), cancelling=1']);
  });

  it('works with manual enter() and exit()', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const tg = new TaskGroup();
      expect(await tg.enter()).toBe(tg);
      await expect(tg.enter()).rejects.toThrow(/already been entered/);
      const t = tg.createTask(async () => {
        await sleep(0.002);
        return 3;
      });
      await tg.exit();
      expect(t.result()).toBe(3);
      await expect(tg.exit()).rejects.toThrow(/already called/);

      const failing = new TaskGroup();
      await failing.enter();
      const child = failing.createTask(() => sleep(10));
      const bodyError = new Error('body');
      const error = await caught(failing.exit(bodyError));
      expect((error as AggregateError).errors).toEqual([bodyError]);
      expect(child.cancelled()).toBe(true);
    });
  });

  it('needs a task and a function body', async () => {
    await expect(new TaskGroup().enter()).rejects.toThrow(/no running event loop/);
    const loop = newLoop();
    let error: unknown;
    loop.callSoon(() => {
      new TaskGroup().enter().then(undefined, (e: unknown) => {
        error = e;
        loop.stop();
      });
    });
    await loop.runForever();
    expect((error as Error).message).toMatch(/cannot determine the parent task/);
    await loop.runUntilComplete(async () => {
      await expect(TaskGroup.run(5 as never)).rejects.toThrow(/takes a function/);
    });
  });
});
