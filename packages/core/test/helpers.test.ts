import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ALL_COMPLETED,
  CancelledError,
  EventLoop,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  TimeoutError,
  allTasks,
  asCompleted,
  gather,
  shield,
  sleep,
  wait,
  wrapFuture,
} from '../src/index.js';
import { caught, newVirtualLoop as newLoop } from './support.js';


describe('gather', () => {
  it('returns results in input order, not completion order, for tasks, futures, promises and async functions', async () => {
    const loop = newLoop();
    const finished: string[] = [];
    const result = await loop.runUntilComplete(async () => {
      const slow = loop.createTask(async () => {
        await sleep(0.3); // far apart from the others, so load on the machine cannot reorder them
        finished.push('slow');
        return 'slow';
      });
      const fut = loop.createFuture<number>();
      loop.callLater(0.01, () => {
        finished.push('fut');
        fut.setResult(2);
      });
      return await gather(slow, fut, Promise.resolve('p'), async () => {
        await sleep(0.02);
        finished.push('fn');
        return 3;
      }, fut);
    });
    expect(finished).toEqual(['fut', 'fn', 'slow']);
    expect(result).toEqual(['slow', 2, 'p', 3, 2]);
  });

  it('resolves to [] with no awaitables', async () => {
    const loop = newLoop();
    expect(await loop.runUntilComplete(async () => await gather())).toEqual([]);
  });

  it('is typed as a tuple of the results', () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    expectTypeOf(gather(fut, Promise.resolve('s'), async () => true)).toEqualTypeOf<Future<[number, string, boolean]>>();
    expectTypeOf(gather(fut, { returnExceptions: true })).toEqualTypeOf<Future<[number | Error]>>();
    fut.cancel();
  });

  it('fails with the first error while the other children keep running', async () => {
    const loop = newLoop();
    const boom = new Error('boom');
    await loop.runUntilComplete(async () => {
      let siblingFinished = false;
      const sibling = loop.createTask(async () => {
        await sleep(0.5);
        siblingFinished = true;
        return 1;
      });
      const second = new Error('second');
      const g = gather(
        sibling,
        async () => {
          await sleep(0.005);
          throw boom;
        },
        async () => {
          await sleep(0.01);
          throw second;
        },
      );
      expect(await caught(g)).toBe(boom);
      expect(sibling.done()).toBe(false);
      expect(await sibling).toBe(1);
      expect(siblingFinished).toBe(true);
    });
  });

  it('with returnExceptions puts errors and CancelledErrors in the results', async () => {
    const loop = newLoop();
    const boom = new Error('boom');
    const result = await loop.runUntilComplete(async () => {
      const cancelled = loop.createFuture<number>();
      cancelled.cancel('stopped');
      const late = loop.createTask(async () => {
        await sleep(1);
        return 0;
      });
      loop.callLater(0.01, () => late.cancel());
      return await gather(
        async () => 1,
        async () => {
          throw boom;
        },
        cancelled,
        late,
        { returnExceptions: true },
      );
    });
    expect(result[0]).toBe(1);
    expect(result[1]).toBe(boom);
    expect(result[2]).toBeInstanceOf(CancelledError);
    expect((result[2] as Error).message).toBe('stopped');
    expect(result[3]).toBeInstanceOf(CancelledError);
  });

  it('cancelling the gather future cancels every pending child and fails with CancelledError', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const cleaned: string[] = [];
      const child = (name: string) =>
        loop.createTask(async () => {
          try {
            await sleep(10);
          } finally {
            cleaned.push(name);
          }
        });
      const a = child('a');
      const b = child('b');
      const done = loop.createFuture<string>();
      done.setResult('already');
      const g = gather(a, b, done);
      await sleep(0.005);
      expect(g.cancel('bye')).toBe(true);
      const error = await caught(g);
      expect(error).toBeInstanceOf(CancelledError);
      expect(a.cancelled() && b.cancelled()).toBe(true);
      expect(cleaned.sort()).toEqual(['a', 'b']);
      expect(g.cancel()).toBe(false);
    });
  });

  it('still fails with CancelledError after a cancel even if a child swallows it', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const stubborn = loop.createTask(async () => {
        try {
          await sleep(10);
        } catch {
          return 'swallowed';
        }
        return 'never';
      });
      const g = gather(stubborn);
      await sleep(0.002);
      expect(g.cancel()).toBe(true);
      expect(await caught(g)).toBeInstanceOf(CancelledError);
      expect(stubborn.result()).toBe('swallowed');
    });
  });

  it('cancelling the task that awaits the gather cancels the children', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const a = loop.createTask(() => sleep(10));
      const b = loop.createTask(() => sleep(10));
      const outer = loop.createTask(async () => await gather(a, b));
      await sleep(0.005);
      outer.cancel();
      expect(await caught(outer)).toBeInstanceOf(CancelledError);
      expect(outer.cancelled()).toBe(true);
      expect(a.cancelled()).toBe(true);
      expect(b.cancelled()).toBe(true);
    });
  });

  it('fails with CancelledError when a child is cancelled, leaving the others running', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const a = loop.createTask(() => sleep(10));
      const b = loop.createTask(async () => {
        await sleep(0.02);
        return 'b';
      });
      const g = gather(a, b);
      loop.callLater(0.005, () => a.cancel('child stop'));
      const error = await caught(g);
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as Error).message).toBe('child stop');
      expect(b.cancelled()).toBe(false);
      expect(await b).toBe('b');
    });
  });

  it('rejects non-awaitables and bad options before starting anything', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const before = allTasks(loop).size;
      expect(() => gather(async () => 1, 5 as never)).toThrow(/argument 2 must be awaitable.*got 5/);
      expect(allTasks(loop).size).toBe(before);
      expect(() => gather(Promise.resolve(1), { returnExceptions: 'yes' } as never)).toThrow(/returnExceptions must be a boolean/);
      expect(() => gather(Promise.resolve(1), { return_exceptions: true } as never)).toThrow(/unknown option "return_exceptions"/);
      const other = new EventLoop();
      const foreign = other.createFuture<number>();
      expect(() => gather(loop.createFuture<number>(), foreign)).toThrow(RangeError);
      other.close();
    });
    expect(() => gather(Promise.resolve(1))).toThrow(/needs a running event loop/);
  });
});

describe('shield', () => {
  it('cancelling the outer future leaves the inner task running to its result', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const inner = loop.createTask(async () => {
        await sleep(0.02);
        return 'kept';
      });
      const outer = shield(inner);
      expect(outer).not.toBe(inner);
      outer.cancel();
      expect(outer.cancelled()).toBe(true);
      expect(await inner).toBe('kept');
      expect(inner.cancelled()).toBe(false);
    });
  });

  it('a task awaiting a shield is cancelled while the shielded work completes', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      let finished = false;
      const inner = loop.createTask(async () => {
        await sleep(0.02);
        finished = true;
        return 5;
      });
      const waiter = loop.createTask(async () => await shield(inner));
      await sleep(0.005);
      waiter.cancel();
      expect(await caught(waiter)).toBeInstanceOf(CancelledError);
      expect(finished).toBe(false);
      expect(await inner).toBe(5);
      expect(finished).toBe(true);
    });
  });

  it('delivers the inner result or error when not cancelled, and is cancelled if the inner is', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      expect(await shield(async () => 7)).toBe(7);
      const boom = new Error('boom');
      expect(
        await caught(
          shield(async () => {
            await sleep(0);
            throw boom;
          }),
        ),
      ).toBe(boom);
      const inner = loop.createFuture<number>();
      const outer = shield(inner);
      inner.cancel();
      expect(await caught(outer)).toBeInstanceOf(CancelledError);
      expect(outer.cancelled()).toBe(true);
      const done = loop.createFuture<number>();
      done.setResult(1);
      expect(shield(done)).toBe(done);
      expect(() => shield(42 as never)).toThrow(/shield\(\): the argument must be awaitable/);
    });
  });
});

describe('wait', () => {
  it('FIRST_COMPLETED returns when one future is done and cancels nothing', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const fast = loop.createTask(async () => {
        await sleep(0.005);
        return 'fast';
      });
      const slow = loop.createTask(() => sleep(10));
      const [done, pending] = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
      expect([...done]).toEqual([fast]);
      expect([...pending]).toEqual([slow]);
      expect(slow.cancelled()).toBe(false);
      slow.cancel();
    });
  });

  it('FIRST_EXCEPTION returns at the first error, ALL_COMPLETED waits for all', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const ok = loop.createTask(async () => {
        await sleep(0.002);
        return 1;
      });
      const bad = loop.createTask(async () => {
        await sleep(0.01);
        throw new Error('bad');
      });
      const slow = loop.createTask(async () => {
        await sleep(0.05);
        return 3;
      });
      const [done, pending] = await wait(new Set([ok, bad, slow]), { returnWhen: FIRST_EXCEPTION });
      expect(done).toEqual(new Set([ok, bad]));
      expect(pending).toEqual(new Set([slow]));
      expect((bad.exception() as Error).message).toBe('bad');
      const [all, none] = await wait([ok, bad, slow], { returnWhen: ALL_COMPLETED });
      expect(all.size).toBe(3);
      expect(none.size).toBe(0);
      expect(slow.result()).toBe(3);
    });
  });

  it('returns at once when the futures are already done', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const a = loop.createFuture<number>();
      a.setResult(1);
      const b = loop.createFuture<number>();
      b.setException(new Error('x'));
      const [done, pending] = await wait([a, b], { returnWhen: FIRST_EXCEPTION });
      expect(done).toEqual(new Set([a, b]));
      expect(pending.size).toBe(0);
      b.exception();
    });
  });

  it('returns at the timeout with the unfinished futures pending, not cancelled, without an error', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const slow = loop.createTask(() => sleep(10));
      const start = loop.time();
      const [done, pending] = await wait([slow], { timeout: 0.02 });
      expect(loop.time() - start).toBeGreaterThanOrEqual(0.015);
      expect(done.size).toBe(0);
      expect(pending.has(slow)).toBe(true);
      expect(slow.done()).toBe(false);
      slow.cancel();
    });
  });

  it('rejects an empty collection, async functions, promises and bad options with clear errors', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const fut = loop.createFuture<number>();
      expect(await caught(wait([]))).toBeInstanceOf(RangeError);
      expect(await caught(wait([]))).toHaveProperty('message', expect.stringMatching(/empty/));
      expect(await caught(wait([(async () => 1) as never]))).toHaveProperty('message', expect.stringMatching(/create tasks explicitly/));
      expect(await caught(wait([Promise.resolve(1) as never]))).toHaveProperty('message', expect.stringMatching(/wrapFuture/));
      expect(await caught(wait(fut as never))).toBeInstanceOf(TypeError);
      expect(await caught(wait([fut], { returnWhen: 'SOMETIMES' as never }))).toBeInstanceOf(RangeError);
      expect(await caught(wait([fut], { timeout: Number.NaN }))).toHaveProperty('message', expect.stringMatching(/timeout must be a number/));
      expect(await caught(wait([fut], { return_when: FIRST_COMPLETED } as never))).toHaveProperty(
        'message',
        expect.stringMatching(/unknown option "return_when"/),
      );
      fut.cancel();
    });
  });
});

describe('asCompleted', () => {
  it('yields the same futures in completion order', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const delays = [0.03, 0.01, 0.02];
      const tasks = delays.map((d, i) =>
        loop.createTask(async () => {
          await sleep(d);
          return i;
        }),
      );
      const order: number[] = [];
      for await (const fut of asCompleted(tasks)) {
        expect(tasks).toContain(fut);
        order.push(await fut);
      }
      expect(order).toEqual([1, 2, 0]);
    });
  });

  it('ends for good when the loop is left with break, leaving the futures running', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const a = loop.createTask(async () => {
        await sleep(0.002);
        return 'a';
      });
      const b = loop.createTask(() => sleep(10));
      const it = asCompleted([a, b], { timeout: 0.01 });
      for await (const fut of it) {
        expect(fut).toBe(a);
        break;
      }
      await sleep(0.02); // past the timeout: a stopped iteration stays finished, no TimeoutError
      expect(await it.next()).toEqual({ done: true, value: undefined });
      expect(b.cancelled()).toBe(false);
      b.cancel();
    });
  });

  it('throws TimeoutError at the step that would wait past the timeout, cancelling nothing', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const quick = wrapFuture(Promise.resolve('quick'));
      const slow = loop.createTask(() => sleep(10));
      const it = asCompleted([quick, slow], { timeout: 0.02 });
      const first = await it.next();
      expect(first.done).toBe(false);
      expect(first.value).toBe(quick);
      expect(await caught(it.next())).toBeInstanceOf(TimeoutError);
      expect(slow.cancelled()).toBe(false);
      slow.cancel();
      expect(() => asCompleted(5 as never)).toThrow(/iterable/);
      expect(() => asCompleted([slow], { timeout: 'x' as never })).toThrow(/timeout must be a number/);
    });
  });
});
