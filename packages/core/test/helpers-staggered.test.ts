import { describe, expect, it } from 'vitest';
import { CancelledError, sleep, staggeredRace, type EventLoop } from '../src/index.js';
import { caught, newVirtualLoop } from './support.js';

/** An attempt that records when it started, ended and whether its cleanup ran; it resolves or rejects after `after` seconds (never, with Infinity). */
function attempt(loop: EventLoop, log: string[], name: string, after: number, outcome: 'ok' | 'fail') {
  return async (): Promise<string> => {
    log.push(`${name} start @${loop.time()}`);
    try {
      await sleep(after === Infinity ? 1e9 : after);
      if (outcome === 'fail') throw new Error(`${name} failed`);
      log.push(`${name} won @${loop.time()}`);
      return name;
    } catch (error) {
      log.push(`${name} ${error instanceof CancelledError ? 'cancelled' : 'failed'} @${loop.time()}`);
      throw error;
    }
  };
}

describe('staggeredRace', () => {
  it('starts the next attempt after the delay while the first hangs; the first to succeed wins and the rest are cancelled', async () => {
    const loop = newVirtualLoop();
    const log: string[] = [];
    const result = await loop.runUntilComplete(() =>
      staggeredRace([attempt(loop, log, 'a', Infinity, 'ok'), attempt(loop, log, 'b', 0.5, 'ok'), attempt(loop, log, 'c', 0.1, 'ok')], 0.25),
    );
    expect(result[0]).toBe('c');
    expect(result[1]).toBe(2);
    expect(result[2].map((e) => (e instanceof CancelledError ? 'cancelled' : e))).toEqual(['cancelled', 'cancelled', null]);
    expect(log).toEqual(['a start @0', 'b start @0.25', 'c start @0.5', 'c won @0.6', 'a cancelled @0.6', 'b cancelled @0.6']);
  });

  it('starts the next attempt at once when the previous one fails before the delay', async () => {
    const loop = newVirtualLoop();
    const log: string[] = [];
    const [winner, index, errors] = await loop.runUntilComplete(() => staggeredRace([attempt(loop, log, 'a', 0.1, 'fail'), attempt(loop, log, 'b', 0.1, 'ok')], 5));
    expect([winner, index]).toEqual(['b', 1]);
    expect((errors[0] as Error).message).toBe('a failed');
    expect(log).toEqual(['a start @0', 'a failed @0.1', 'b start @0.1', 'b won @0.2']);
  });

  it('with a null delay runs one attempt at a time', async () => {
    const loop = newVirtualLoop();
    const log: string[] = [];
    const [winner] = await loop.runUntilComplete(() => staggeredRace([attempt(loop, log, 'a', 3, 'fail'), attempt(loop, log, 'b', 1, 'ok')], null));
    expect(winner).toBe('b');
    expect(log).toEqual(['a start @0', 'a failed @3', 'b start @3', 'b won @4']);
  });

  it('resolves to [null, null, errors] when every attempt fails, and never calls an attempt after a winner', async () => {
    const loop = newVirtualLoop();
    const log: string[] = [];
    const failed = await loop.runUntilComplete(() => staggeredRace([attempt(loop, log, 'a', 0, 'fail'), attempt(loop, log, 'b', 0, 'fail')], 0.25));
    expect(failed[0]).toBe(null);
    expect(failed[1]).toBe(null);
    expect(failed[2].map((e) => (e as Error).message)).toEqual(['a failed', 'b failed']);
    let calls = 0;
    const counted = () => {
      calls++;
      return 'x';
    };
    expect(await loop.runUntilComplete(() => staggeredRace([counted, counted, counted], 0))).toEqual(['x', 0, [null]]);
    expect(calls).toBe(1);
  });

  it('cancelling the race cancels every running attempt, waits for their cleanup, then ends cancelled', async () => {
    const loop = newVirtualLoop();
    const log: string[] = [];
    const outcome = await loop.runUntilComplete(async () => {
      const race = staggeredRace([attempt(loop, log, 'a', Infinity, 'ok'), attempt(loop, log, 'b', Infinity, 'ok'), attempt(loop, log, 'c', Infinity, 'ok')], 1);
      await sleep(1.5);
      race.cancel();
      return caught(race);
    });
    expect(outcome).toBeInstanceOf(CancelledError);
    expect(log).toEqual(['a start @0', 'b start @1', 'a cancelled @1.5', 'b cancelled @1.5']);
  });

  it('checks its arguments', () => {
    const loop = newVirtualLoop();
    expect(() => staggeredRace(5 as never, 1, { loop })).toThrow(/fns must be an iterable of functions/);
    expect(() => staggeredRace([], -1, { loop })).toThrow(/delay must be a number of seconds >= 0 or null/);
    expect(() => staggeredRace([], Number.NaN, { loop })).toThrow(TypeError);
    expect(() => staggeredRace([], 1, null as never)).toThrow(/options must be an object/);
  });

  it('rejects when an element is not a function', async () => {
    const loop = newVirtualLoop();
    const error = await loop.runUntilComplete(() => caught(staggeredRace([42 as never], 1, { loop })));
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors[0]).toBeInstanceOf(TypeError);
  });
});
