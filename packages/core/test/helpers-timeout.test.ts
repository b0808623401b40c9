import { describe, expect, it } from 'vitest';
import { CancelledError, RuntimeError, Timeout, TimeoutError, currentTask, sleep, timeout, timeoutAt, waitFor } from '../src/index.js';
import { caught, newVirtualLoop as newLoop } from './support.js';


describe('timeout() callback form', () => {
  it('on expiry cancels the body, runs its finally, and throws TimeoutError caused by the CancelledError', async () => {
    const loop = newLoop();
    const outcome = await loop.runUntilComplete(async () => {
      const task = currentTask()!;
      let scope: Timeout | undefined;
      let sawCancel: unknown;
      let cleaned = false;
      const error = await caught(
        timeout(0.01, async (s) => {
          scope = s;
          try {
            await sleep(10);
          } catch (e) {
            sawCancel = e;
            throw e;
          } finally {
            cleaned = true;
          }
        }),
      );
      return { error, sawCancel, cleaned, expired: scope!.expired(), cancelling: task.cancelling(), text: String(scope) };
    });
    expect(outcome.error).toBeInstanceOf(TimeoutError);
    expect(outcome.sawCancel).toBeInstanceOf(CancelledError);
    expect((outcome.error as Error).cause).toBe(outcome.sawCancel);
    expect(outcome.cleaned).toBe(true);
    expect(outcome.expired).toBe(true);
    expect(outcome.cancelling).toBe(0);
    expect(outcome.text).toBe('<Timeout [expired]>');
  });

  it('returns the body result when the deadline does not pass', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      let scope: Timeout | undefined;
      const value = await timeout(10, async (s) => {
        scope = s;
        await sleep(0.005);
        return 'ok';
      });
      expect(value).toBe('ok');
      expect(scope!.expired()).toBe(false);
      expect(scope!.when()).toBeGreaterThan(loop.time());
      expect(String(scope)).toBe('<Timeout [finished]>');
      const none = await timeout(null, async (s) => {
        expect(s.when()).toBeNull();
        await sleep(0.005);
        return s;
      });
      expect(none.expired()).toBe(false);
    });
  });

  it('lets a foreign error through unchanged, even after expiry', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const boom = new Error('in finally');
      const error = await caught(
        timeout(0.005, async () => {
          try {
            await sleep(1);
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw boom;
          }
        }),
      );
      expect(error).toBe(boom);
    });
  });

  it('with two nested scopes of the same deadline, only the outer one converts to TimeoutError', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const deadline = loop.time() + 0.01;
      let innerSaw: unknown;
      let inner: Timeout | undefined;
      let outer: Timeout | undefined;
      const error = await caught(
        timeoutAt(deadline, async (o) => {
          outer = o;
          try {
            await timeoutAt(deadline, async (i) => {
              inner = i;
              await sleep(10);
            });
          } catch (e) {
            innerSaw = e;
            throw e;
          }
        }),
      );
      expect(innerSaw).toBeInstanceOf(CancelledError);
      expect(innerSaw).not.toBeInstanceOf(TimeoutError);
      expect(error).toBeInstanceOf(TimeoutError);
      expect(inner!.expired() && outer!.expired()).toBe(true);
      expect(outer!.when()).toBe(deadline);
      expect(currentTask()!.cancelling()).toBe(0);
    });
  });

  it('an inner scope that expires first raises TimeoutError inside the outer one, which goes on', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const result = await timeout(10, async (outer) => {
        const innerError = await caught(timeout(0.005, () => sleep(10)));
        expect(innerError).toBeInstanceOf(TimeoutError);
        await sleep(0.005);
        expect(outer.expired()).toBe(false);
        return 'outer finished';
      });
      expect(result).toBe('outer finished');
    });
  });

  it('an outer scope that expires first passes through an inner scope as CancelledError', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      let inner: Timeout | undefined;
      let innerSaw: unknown;
      const error = await caught(
        timeout(0.005, async () => {
          try {
            await timeout(10, async (i) => {
              inner = i;
              await sleep(10);
            });
          } catch (e) {
            innerSaw = e;
            throw e;
          }
        }),
      );
      expect(innerSaw).toBeInstanceOf(CancelledError);
      expect(inner!.expired()).toBe(false);
      expect(error).toBeInstanceOf(TimeoutError);
    });
  });

  it('a cancellation from outside stays a CancelledError and cancels the task', async () => {
    const loop = newLoop();
    let scope: Timeout | undefined;
    const task = loop.createTask(() =>
      timeout(10, async (s) => {
        scope = s;
        await sleep(10);
      }),
    );
    loop.callLater(0.005, () => task.cancel());
    expect(await caught(loop.runUntilComplete(task))).toBeInstanceOf(CancelledError);
    expect(task.cancelled()).toBe(true);
    expect(scope!.expired()).toBe(false);
  });

  it('an outside cancel arriving together with the expiry is not converted', async () => {
    const loop = newLoop();
    let scope: Timeout | undefined;
    const task = loop.createTask(() =>
      timeout(0.01, async (s) => {
        scope = s;
        // Cancel from outside in the same iteration as the deadline fires.
        loop.callAt(s.when()!, () => task.cancel());
        await sleep(10);
      }),
    );
    expect(await caught(loop.runUntilComplete(task))).toBeInstanceOf(CancelledError);
    expect(task.cancelled()).toBe(true);
    expect(scope!.expired()).toBe(true);
  });

  it('still converts its own expiry after an earlier cancellation was swallowed', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      currentTask()!.cancel();
      try {
        await sleep(1);
      } catch (e) {
        expect(e).toBeInstanceOf(CancelledError);
      }
      expect(currentTask()!.cancelling()).toBe(1);
      expect(await caught(timeout(0, () => sleep(1)))).toBeInstanceOf(TimeoutError);
      expect(currentTask()!.cancelling()).toBe(1);
      currentTask()!.uncancel();
    });
  });

  it('timeout(0) expires even if the body only yields once', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      expect(await caught(timeout(0, () => sleep(0)))).toBeInstanceOf(TimeoutError);
      expect(await caught(timeout(-5, () => sleep(0)))).toBeInstanceOf(TimeoutError);
    });
  });
});

describe('Timeout.reschedule', () => {
  it('moves, removes and brings forward the deadline', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const kept = await timeout(0.01, async (s) => {
        s.reschedule(loop.time() + 10);
        await sleep(0.03);
        s.reschedule(null);
        expect(s.when()).toBeNull();
        await sleep(0.005);
        return s;
      });
      expect(kept.expired()).toBe(false);
      expect(() => kept.reschedule(loop.time() + 1)).toThrow(/Cannot change state of finished Timeout/);

      const start = loop.time();
      const error = await caught(
        timeout(10, async (s) => {
          s.reschedule(loop.time() + 0.01);
          await sleep(10);
        }),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect(loop.time() - start).toBeLessThan(5);
    });
  });

  it('is refused once expired', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      let scope: Timeout | undefined;
      await caught(
        timeout(0.005, async (s) => {
          scope = s;
          await sleep(1);
        }),
      );
      expect(() => scope!.reschedule(null)).toThrow(/Cannot change state of expired Timeout/);
      expect(() => scope!.reschedule(Number.NaN)).toThrow(TypeError);
    });
  });
});

describe('timeout() misuse', () => {
  it('outside a task throws a clear RuntimeError', async () => {
    expect(() => timeout(1)).toThrow(/inside a task/);
    const loop = newLoop();
    let error: unknown;
    loop.callSoon(() => {
      try {
        timeout(1);
      } catch (e) {
        error = e;
      }
      loop.stop();
    });
    await loop.runForever();
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as Error).message).toMatch(/inside a task/);
  });

  it('rejects bad delays and callbacks with TypeErrors', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      expect(() => timeout(Number.NaN)).toThrow(/delay must be a number of seconds or null/);
      expect(() => timeout(undefined as never)).toThrow(/delay must be a number/);
      expect(() => timeout('1' as never)).toThrow(TypeError);
      expect(() => timeout(1, 5 as never)).toThrow(/must be a function/);
      expect(() => timeout(1, Promise.resolve(1) as never)).toThrow(/use waitFor/);
      expect(() => timeoutAt(Number.NaN)).toThrow(TypeError);
    });
  });
});

describe('timeout() with await using', () => {
  it('on expiry the block ends with a SuppressedError holding the TimeoutError', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      let scope: Timeout | undefined;
      let cleaned = false;
      let error: unknown;
      try {
        await using s = timeout(0.01);
        scope = s;
        try {
          await sleep(10);
        } finally {
          cleaned = true;
        }
      } catch (e) {
        error = e;
      }
      expect(cleaned).toBe(true);
      expect(scope!.expired()).toBe(true);
      const suppressed = error as { name: string; error: unknown; suppressed: unknown };
      expect(suppressed.name).toBe('SuppressedError');
      expect(suppressed.error).toBeInstanceOf(TimeoutError);
      expect(suppressed.suppressed).toBeInstanceOf(CancelledError);
      expect((suppressed.error as Error).cause).toBe(suppressed.suppressed);
      expect(currentTask()!.cancelling()).toBe(0);
    });
  });

  it('without expiry the block completes normally', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      let scope: Timeout | undefined;
      {
        await using s = timeout(10);
        scope = s;
        await sleep(0.002);
      }
      expect(scope.expired()).toBe(false);
      expect(String(scope)).toBe('<Timeout [finished]>');
      await expect(scope[Symbol.asyncDispose]()).rejects.toThrow(/exited already/);
    });
  });

  it('nested scopes with the same deadline: the inner passes CancelledError, the outer converts', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const deadline = loop.time() + 0.01;
      let innerSaw: unknown;
      let error: unknown;
      try {
        await using _outer = timeoutAt(deadline);
        try {
          await using _inner = timeoutAt(deadline);
          await sleep(10);
        } catch (e) {
          innerSaw = e;
          throw e;
        }
      } catch (e) {
        error = e;
      }
      expect(innerSaw).toBeInstanceOf(CancelledError);
      expect((error as { error: unknown }).error).toBeInstanceOf(TimeoutError);
      expect(currentTask()!.cancelling()).toBe(0);
    });
  });

  it('an expiry that was never delivered (no Future awaited after it) raises nothing', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const self = currentTask()!;
      let scope: Timeout | undefined;
      {
        await using s = timeout(0);
        scope = s;
        // Wait on a native promise across loop iterations: the task is not
        // suspended on a Future, so the cancel stays pending, then is withdrawn.
        await new Promise<void>((resolve) => setTimeout(resolve, 5));
        expect(self.cancelling()).toBe(1);
      }
      expect(scope.expired()).toBe(true);
      expect(self.cancelling()).toBe(0);
    });
  });

  it('an outside cancel stays a plain CancelledError', async () => {
    const loop = newLoop();
    const task = loop.createTask(async () => {
      await using _s = timeout(10);
      await sleep(10);
    });
    loop.callLater(0.005, () => task.cancel());
    const error = await caught(loop.runUntilComplete(task));
    expect(error).toBeInstanceOf(CancelledError);
    expect(task.cancelled()).toBe(true);
  });

  it('Timeout disposes through the Symbol.asyncDispose this Node defines', () => {
    // Node 20 defines it as Symbol.for('nodejs.asyncDispose'); newer engines natively.
    expect(typeof Symbol.asyncDispose).toBe('symbol');
    expect(typeof Timeout.prototype[Symbol.asyncDispose]).toBe('function');
  });
});

describe('waitFor', () => {
  it('returns the result of a future, a promise or an async function in time', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const fut = loop.createFuture<number>();
      loop.callLater(0.002, () => fut.setResult(1));
      expect(await waitFor(fut, 1)).toBe(1);
      expect(await waitFor(Promise.resolve('p'), 1)).toBe('p');
      expect(
        await waitFor(async () => {
          await sleep(0.002);
          return 'fn';
        }, null),
      ).toBe('fn');
    });
  });

  it('on timeout cancels the inner task, waits for its finally, then throws TimeoutError', async () => {
    const loop = newLoop();
    const events: string[] = [];
    const outcome = await loop.runUntilComplete(async () => {
      const inner = loop.createTask(async () => {
        try {
          await sleep(10);
        } finally {
          events.push('inner finally');
        }
      });
      const error = await caught(waitFor(inner, 0.01));
      events.push('waitFor rejected');
      return { error, innerCancelled: inner.cancelled(), cancelling: currentTask()!.cancelling() };
    });
    expect(outcome.error).toBeInstanceOf(TimeoutError);
    expect((outcome.error as Error).cause).toBeInstanceOf(CancelledError);
    expect(outcome.innerCancelled).toBe(true);
    expect(outcome.cancelling).toBe(0);
    expect(events).toEqual(['inner finally', 'waitFor rejected']);
  });

  it('on timeout interrupts an async function, whose finally runs first', async () => {
    const loop = newLoop();
    const events: string[] = [];
    await loop.runUntilComplete(async () => {
      const error = await caught(
        waitFor(async () => {
          try {
            await sleep(10);
          } finally {
            events.push('fn finally');
          }
        }, 0.01),
      );
      events.push(error instanceof TimeoutError ? 'TimeoutError' : String(error));
      await sleep(0.002); // the task itself was not left cancelled
      events.push('after');
    });
    expect(events).toEqual(['fn finally', 'TimeoutError', 'after']);
  });

  it('with timeout <= 0 returns a done result, else cancels without starting a function', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const done = loop.createFuture<string>();
      done.setResult('ready');
      expect(await waitFor(done, 0)).toBe('ready');
      let started = false;
      const error = await caught(
        waitFor(async () => {
          started = true;
        }, 0),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect(started).toBe(false);
      // A task that swallows its cancellation and returns a value: that value is the result.
      const stubborn = loop.createTask(async () => {
        try {
          await sleep(10);
        } catch {
          return 'swallowed';
        }
        return 'never';
      });
      await sleep(0);
      expect(await waitFor(stubborn, -1)).toBe('swallowed');
    });
  });

  it('times out on a promise that never settles', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      expect(await caught(waitFor(new Promise<never>(() => {}), 0.005))).toBeInstanceOf(TimeoutError);
    });
  });

  it('cancelling the calling task cancels the inner task and stays a CancelledError', async () => {
    const loop = newLoop();
    const inner = loop.createTask(() => sleep(10));
    const outer = loop.createTask(() => waitFor(inner, 10));
    loop.callLater(0.005, () => outer.cancel());
    expect(await caught(loop.runUntilComplete(outer))).toBeInstanceOf(CancelledError);
    expect(outer.cancelled()).toBe(true);
    expect(inner.cancelled()).toBe(true);
  });

  it('called from a plain loop callback runs in a task of its own', async () => {
    const loop = newLoop();
    const results: unknown[] = [];
    loop.callSoon(() => {
      waitFor(sleep(0.002, 'v'), 1).then((v) => results.push(v));
      waitFor(sleep(10), 0.005).then(undefined, (e: unknown) => results.push(e));
    });
    await loop.runUntilComplete(() => sleep(0.05));
    expect(results[0]).toBe('v');
    expect(results[1]).toBeInstanceOf(TimeoutError);
  });

  it('rejects bad arguments with TypeErrors and needs a running loop', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      expect(await caught(waitFor(5 as never, 1))).toHaveProperty('message', expect.stringMatching(/must be awaitable/));
      expect(await caught(waitFor(Promise.resolve(1), Number.NaN))).toHaveProperty('message', expect.stringMatching(/timeout must be a number/));
      expect(await caught((waitFor as (aw: unknown) => Promise<unknown>)(Promise.resolve(1)))).toHaveProperty(
        'message',
        expect.stringMatching(/timeout is required/),
      );
    });
    expect(await caught(waitFor(Promise.resolve(1), 1))).toBeInstanceOf(RuntimeError);
    const other = newLoop();
    const foreign = other.createFuture<number>();
    await loop.runUntilComplete(async () => {
      expect(await caught(waitFor(foreign, 1))).toBeInstanceOf(RangeError);
    });
  });
});
