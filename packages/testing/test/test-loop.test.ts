import { afterEach, describe, expect, it } from 'vitest';
import { sleep, wrapFuture, type Future } from '@aioloop/core';
import { DeadlockError, TestLoop, type TestLoopOptions } from '../src/index.js';

const loops: TestLoop[] = [];
function newLoop(options: TestLoopOptions = {}): TestLoop {
  const loop = new TestLoop(options);
  loops.push(loop);
  return loop;
}
afterEach(() => {
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

describe('TestLoop auto-advance', () => {
  it('starts the clock at 0 and finishes an hour-long sleep in real milliseconds', async () => {
    const loop = newLoop();
    expect(loop.time()).toBe(0);
    const started = performance.now();
    const result = await loop.runUntilComplete(async () => {
      await sleep(3600);
      return loop.time();
    });
    expect(result).toBe(3600);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('fires each timer with the clock reading exactly its deadline', async () => {
    const loop = newLoop();
    const seen: [string, number][] = [];
    loop.callLater(2.5, () => seen.push(['b', loop.time()]));
    loop.callLater(1, () => seen.push(['a', loop.time()]));
    loop.callAt(10, () => {
      seen.push(['stop', loop.time()]);
      loop.stop();
    });
    await loop.runForever();
    expect(seen).toEqual([
      ['a', 1],
      ['b', 2.5],
      ['stop', 10],
    ]);
  });

  it('interleaves sleeping tasks in deadline order, the same on every run', async () => {
    async function trace(): Promise<string[]> {
      const loop = newLoop();
      const log: string[] = [];
      await loop.runUntilComplete(async () => {
        const worker = (name: string, period: number) => async () => {
          for (let i = 0; i < 3; i++) {
            await sleep(period);
            log.push(`${name}${i}@${loop.time()}`);
          }
        };
        const a = loop.createTask(worker('a', 1));
        const b = loop.createTask(worker('b', 1.5));
        const c = loop.createTask(worker('c', 1));
        await a;
        await b;
        await c;
      });
      return log;
    }
    const first = await trace();
    expect(first).toEqual(['a0@1', 'c0@1', 'b0@1.5', 'a1@2', 'c1@2', 'b1@3', 'a2@3', 'c2@3', 'b2@4.5']);
    expect(await trace()).toEqual(first);
  });

  it('runs ready callbacks before jumping the clock', async () => {
    const loop = newLoop();
    const seen: string[] = [];
    loop.callLater(5, () => {
      seen.push(`timer@${loop.time()}`);
      loop.stop();
    });
    loop.callSoon(() => {
      seen.push(`soon@${loop.time()}`);
      loop.callSoon(() => seen.push(`soon2@${loop.time()}`));
    });
    await loop.runForever();
    expect(seen).toEqual(['soon@0', 'soon2@0', 'timer@5']);
  });

  it('does not fire a cancelled timer, and jumps to the next live one', async () => {
    const loop = newLoop();
    const seen: number[] = [];
    const cancelled = loop.callLater(1, () => seen.push(1));
    loop.callLater(2, () => {
      seen.push(loop.time());
      loop.stop();
    });
    cancelled.cancel();
    await loop.runForever();
    expect(seen).toEqual([2]);
  });

  it('lets a wrapped promise that settles quickly in real time land before jumping to a virtual timeout', async () => {
    const loop = newLoop();
    const value = await loop.runUntilComplete(async () => {
      const real = new Promise<string>((resolve) => setTimeout(() => resolve('real'), 5));
      const timeout = loop.callLater(10, () => {
        throw new Error('the virtual timeout fired first');
      });
      const result = await wrapFuture(real);
      timeout.cancel();
      return `${result}@${loop.time()}`;
    });
    expect(value).toBe('real@0');
  });

  it('still advances while a wrapped promise waits on the virtual clock itself', async () => {
    const loop = newLoop();
    const value = await loop.runUntilComplete(async () => {
      const inner = (async () => {
        await sleep(120);
        return loop.time();
      })();
      return await wrapFuture(inner);
    });
    expect(value).toBe(120);
  });
});

describe('TestLoop deadlock detection', () => {
  it('fails the run with a DeadlockError naming every waiting task and what it waits on', async () => {
    const loop = newLoop({ deadlockGraceMs: 5 });
    let gate!: Future<void>;
    const run = loop.runUntilComplete(async () => {
      gate = loop.createFuture<void>();
      const consumer = loop.createTask(async () => gate, { name: 'consumer' });
      await consumer;
    });
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeadlockError);
    const deadlock = error as DeadlockError;
    expect(deadlock.message).toMatch(/deadlock at virtual time 0s/);
    expect(deadlock.message).toMatch(/consumer waiting on <Future pending>/);
    expect(deadlock.message).toMatch(/Task-\d+ waiting on task consumer/);
    expect(deadlock.waiting.map((w) => w.name)).toContain('consumer');
    expect(deadlock.at).toBe(0);
    expect(loop.isRunning()).toBe(false);
  });

  it('reports the virtual time of the deadlock after timers ran out', async () => {
    const loop = newLoop({ deadlockGraceMs: 5 });
    const error = await loop
      .runUntilComplete(async () => {
        await sleep(30);
        await loop.createFuture<void>();
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as DeadlockError).at).toBe(30);
  });

  it('does not declare a deadlock with detectDeadlock: false; the loop simply waits', async () => {
    const loop = newLoop({ detectDeadlock: false });
    const run = loop.runUntilComplete(async () => {
      const future = loop.createFuture<string>();
      setTimeout(() => loop.callSoonThreadsafe(() => future.setResult('woken from outside')), 80);
      return await future;
    });
    expect(await run).toBe('woken from outside');
  });

  it('does not declare a deadlock while a task awaits a foreign promise', async () => {
    const loop = newLoop({ deadlockGraceMs: 1 });
    const result = await loop.runUntilComplete(async () => {
      const task = loop.createTask(async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return 'done';
      });
      return await task;
    });
    expect(result).toBe('done');
  });

  it('does not declare a deadlock when the loop runs with no task at all', async () => {
    const loop = newLoop({ deadlockGraceMs: 1 });
    setTimeout(() => loop.callSoonThreadsafe(() => loop.stop()), 30);
    await expect(loop.runForever()).resolves.toBeUndefined();
  });
});

describe('TestLoop manual mode', () => {
  it('never moves the clock by itself: runUntilIdle runs what is ready and leaves timers', async () => {
    const loop = newLoop({ autoAdvance: false });
    const seen: string[] = [];
    loop.callSoon(() => seen.push('soon'));
    loop.callLater(1, () => seen.push('timer'));
    await loop.runUntilIdle();
    expect(seen).toEqual(['soon']);
    expect(loop.time()).toBe(0);
  });

  it('advance() fires the timers that fall due, each at its own deadline, and stops at the target', async () => {
    const loop = newLoop({ autoAdvance: false });
    const seen: number[] = [];
    loop.callLater(1, () => {
      seen.push(loop.time());
      loop.callLater(1, () => seen.push(loop.time()));
    });
    loop.callLater(5, () => seen.push(loop.time()));
    await loop.advance(3);
    expect(seen).toEqual([1, 2]);
    expect(loop.time()).toBe(3);
    await loop.advance(2);
    expect(seen).toEqual([1, 2, 5]);
    expect(loop.time()).toBe(5);
    expect(loop.isRunning()).toBe(false);
  });

  it('advance() drives a running runUntilComplete step by step', async () => {
    const loop = newLoop({ autoAdvance: false });
    const log: number[] = [];
    const run = loop.runUntilComplete(async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(10);
        log.push(loop.time());
      }
      return 'finished';
    });
    await loop.advance(9.5);
    expect(log).toEqual([]);
    await loop.advance(0.5);
    expect(log).toEqual([10]);
    await loop.advance(20);
    expect(log).toEqual([10, 20, 30]);
    expect(loop.time()).toBe(30);
    expect(await run).toBe('finished');
  });

  it('advance() rejects when the loop stops before reaching the target', async () => {
    const loop = newLoop({ autoAdvance: false });
    const run = loop.runForever();
    loop.callLater(2, () => loop.stop());
    await expect(loop.advance(10)).rejects.toThrow(/stopped at virtual time 2s before advance\(\) reached its target/);
    await run;
  });

  it('setAutoAdvance(true) lets a waiting manual loop jump on', async () => {
    const loop = newLoop({ autoAdvance: false });
    const run = loop.runUntilComplete(async () => {
      await sleep(100);
      return loop.time();
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(loop.time()).toBe(0);
    loop.setAutoAdvance(true);
    expect(await run).toBe(100);
  });
});

describe('TestLoop argument checks', () => {
  it('rejects invalid options naming the option and what is accepted', () => {
    expect(() => new TestLoop({ autoAdvance: 'yes' as unknown as boolean })).toThrow(/autoAdvance must be a boolean, got "yes"/);
    expect(() => new TestLoop({ deadlockGraceMs: -1 })).toThrow(/deadlockGraceMs must be a number of milliseconds >= 0/);
    expect(() => new TestLoop({ startTime: Infinity })).toThrow(/startTime must be a finite number/);
    expect(() => new TestLoop({ foreignGraceMs: Number.NaN })).toThrow(/foreignGraceMs must be a number of milliseconds >= 0, got NaN/);
  });

  it('rejects a negative or non-finite advance and leaves the clock unchanged', async () => {
    const loop = newLoop({ autoAdvance: false });
    await expect(loop.advance(-1)).rejects.toThrow(/advance\(\): seconds must be a finite number >= 0, got -1/);
    await expect(loop.advance(Number.NaN)).rejects.toThrow(TypeError);
    expect(loop.time()).toBe(0);
  });

  it('starts at startTime when given', () => {
    const loop = newLoop({ startTime: 1000 });
    expect(loop.time()).toBe(1000);
  });

  it('refuses to advance a closed loop', async () => {
    const loop = newLoop();
    loop.close();
    await expect(loop.advance(1)).rejects.toThrow(/Event loop is closed/);
  });
});
