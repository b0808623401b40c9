import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  Future,
  InvalidStateError,
  isFuture,
  wrapFuture,
  type ExceptionContext,
} from '../src/index.js';
import { newLoop } from './support.js';


describe('Future state', () => {
  it('starts pending and takes exactly one outcome', () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    expect(fut.done()).toBe(false);
    expect(() => fut.result()).toThrow(InvalidStateError);
    expect(() => fut.exception()).toThrow(InvalidStateError);
    // CPython's messages (its C Future; the pure-Python one says 'Result is not ready.').
    expect(() => fut.result()).toThrow(/^Result is not set\.$/);
    expect(() => fut.exception()).toThrow(/^Exception is not set\.$/);
    fut.setResult(3);
    expect(fut.done()).toBe(true);
    expect(fut.result()).toBe(3);
    expect(fut.exception()).toBeNull();
    expect(() => fut.setResult(4)).toThrow(InvalidStateError);
    expect(() => fut.setException(new Error('x'))).toThrow(InvalidStateError);
    expect(fut.cancel()).toBe(false);
  });

  it('result() rethrows the exception; exception() returns it', () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    const error = new Error('nope');
    fut.setException(error);
    expect(() => fut.result()).toThrow(error);
    expect(fut.exception()).toBe(error);
  });

  it('cancel(msg) makes result() throw CancelledError carrying the message', () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    expect(fut.cancel('stop it')).toBe(true);
    expect(fut.cancelled()).toBe(true);
    expect(fut.done()).toBe(true);
    expect(() => fut.result()).toThrow(CancelledError);
    try {
      fut.result();
    } catch (e) {
      expect((e as Error).message).toBe('stop it');
    }
    expect(fut.cancel()).toBe(false);
    expect(() => fut.cancel(5 as never)).toThrow(/message must be a string/);
  });

  it('setException(undefined) is rejected', () => {
    expect(() => newLoop().createFuture().setException(undefined)).toThrow(TypeError);
  });

  it('new Future() needs a loop', () => {
    expect(() => new Future()).toThrow(/needs a loop/);
    expect(() => new Future({} as never)).toThrow(/must be an event loop/);
    expect(isFuture(newLoop().createFuture())).toBe(true);
    expect(isFuture(Promise.resolve())).toBe(false);
  });
});

describe('done callbacks', () => {
  it('are scheduled with callSoon, never called synchronously', async () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    const seen: string[] = [];
    fut.addDoneCallback((f) => seen.push(`cb ${f.result()}`));
    fut.setResult(1);
    seen.push('after setResult');
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(seen).toEqual(['after setResult', 'cb 1']);
  });

  it('added to an already done future are still queued with callSoon', async () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    fut.setResult(1);
    const seen: string[] = [];
    loop.callSoon(() => seen.push('queued first'));
    fut.addDoneCallback(() => seen.push('done callback'));
    seen.push('sync');
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(seen).toEqual(['sync', 'queued first', 'done callback']);
  });

  it('removeDoneCallback removes every registration and returns the count', async () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    let calls = 0;
    const cb = (): void => {
      calls++;
    };
    fut.addDoneCallback(cb);
    fut.addDoneCallback(cb);
    expect(fut.removeDoneCallback(cb)).toBe(2);
    expect(fut.removeDoneCallback(cb)).toBe(0);
    fut.setResult(1);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(calls).toBe(0);
    expect(() => fut.addDoneCallback(1 as never)).toThrow(/takes a function/);
  });

  it('cancellation runs the callbacks too', async () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    let sawCancelled = false;
    fut.addDoneCallback((f) => (sawCancelled = f.cancelled()));
    fut.cancel();
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(sawCancelled).toBe(true);
  });
});

describe('awaiting futures', () => {
  it('await gives the result, or throws the exception or CancelledError', async () => {
    const loop = newLoop();
    const ok = loop.createFuture<string>();
    const bad = loop.createFuture<string>();
    const cancelled = loop.createFuture<string>();
    loop.callSoon(() => {
      ok.setResult('yes');
      bad.setException(new Error('no'));
      cancelled.cancel('why');
    });
    const result = await loop.runUntilComplete(async () => {
      const a = await ok;
      const b = await bad.then(
        () => 'unexpected',
        (e: unknown) => (e as Error).message,
      );
      let c = '';
      try {
        await cancelled;
      } catch (e) {
        c = e instanceof CancelledError ? `cancelled: ${e.message}` : 'other';
      }
      return [a, b, c];
    });
    expect(result).toEqual(['yes', 'no', 'cancelled: why']);
  });

  it('then() chains like a promise and catch/finally work', async () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    loop.callSoon(() => fut.setResult(20));
    const doubled = await loop.runUntilComplete(async () => {
      let finallyRan = false;
      const v = await fut.then((x) => x * 2).finally(() => (finallyRan = true));
      return [v, finallyRan];
    });
    expect(doubled).toEqual([40, true]);
  });

  it('wrapFuture turns a promise into a Future of the running loop', async () => {
    const loop = newLoop();
    const value = await loop.runUntilComplete(async () => {
      const fut = wrapFuture(new Promise<number>((r) => setTimeout(() => r(5), 5)));
      expect(isFuture(fut)).toBe(true);
      return await fut;
    });
    expect(value).toBe(5);
    expect(() => wrapFuture(3 as never, loop)).toThrow(/takes a promise/);
  });
});

describe('never-retrieved exceptions', () => {
  it('are reported to the exception handler when the future is collected', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('tests must run with --expose-gc');
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    (() => {
      loop.createFuture().setException(new Error('forgotten'));
      const seen = loop.createFuture();
      seen.setException(new Error('looked at'));
      seen.exception();
    })();
    for (let i = 0; i < 20 && contexts.length === 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(contexts).toHaveLength(1);
    expect(contexts[0]?.message).toBe('Future exception was never retrieved');
    expect((contexts[0]?.exception as Error).message).toBe('forgotten');
  });
});
