/**
 * Property test of the Future state machine against a model: random sequences
 * of setResult / setException / cancel / addDoneCallback / removeDoneCallback /
 * result / exception, run on a TestLoop. Bounded in CI; see property-settings.ts.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, Future, InvalidStateError } from '@aioloop/core';
import { TestLoop } from '../src/index.js';
import { longRun, propertyParameters } from './property-settings.js';

const loops: TestLoop[] = [];
afterEach(() => {
  for (const loop of loops.splice(0)) if (!loop.isRunning() && !loop.isClosed()) loop.close();
});

type Op =
  | { kind: 'setResult'; value: number }
  | { kind: 'setException' }
  | { kind: 'cancel' }
  | { kind: 'add'; callback: number }
  | { kind: 'remove'; callback: number }
  | { kind: 'read' }
  | { kind: 'tick' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.integer().map<Op>((value) => ({ kind: 'setResult', value })),
  fc.constant<Op>({ kind: 'setException' }),
  fc.constant<Op>({ kind: 'cancel' }),
  { weight: 3, arbitrary: fc.nat({ max: 5 }).map<Op>((callback) => ({ kind: 'add', callback })) },
  fc.nat({ max: 5 }).map<Op>((callback) => ({ kind: 'remove', callback })),
  fc.constant<Op>({ kind: 'read' }),
  fc.constant<Op>({ kind: 'tick' }),
);

type ModelState = { state: 'pending' } | { state: 'result'; value: number } | { state: 'exception'; error: Error } | { state: 'cancelled' };

describe('Future state machine (property)', () => {
  it('never leaves done; done callbacks run exactly once each, in registration order, from the loop', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const loop = new TestLoop({ detectDeadlock: false });
        loops.push(loop);
        const future = new Future<number>(loop);
        // Six distinct callbacks, each may be registered several times.
        const calls: number[] = [];
        const callbacks = Array.from({ length: 6 }, (_, i) => (f: Future<number>) => {
          expect(f).toBe(future);
          calls.push(i);
        });
        let model = { state: 'pending' } as ModelState;
        let registered: number[] = []; // the model's callback list while pending
        const expected: number[] = []; // calls the model expects, in order
        const error = new Error('boom');

        const finish = (next: ModelState): void => {
          model = next;
          expected.push(...registered);
          registered = [];
        };

        for (const o of ops) {
          const wasDone = model.state !== 'pending';
          switch (o.kind) {
            case 'setResult':
              if (wasDone) expect(() => future.setResult(o.value)).toThrow(InvalidStateError);
              else {
                future.setResult(o.value);
                finish({ state: 'result', value: o.value });
              }
              break;
            case 'setException':
              if (wasDone) expect(() => future.setException(error)).toThrow(InvalidStateError);
              else {
                future.setException(error);
                finish({ state: 'exception', error });
              }
              break;
            case 'cancel':
              expect(future.cancel()).toBe(!wasDone);
              if (!wasDone) finish({ state: 'cancelled' });
              break;
            case 'add':
              future.addDoneCallback(callbacks[o.callback]!);
              // asyncio: added after done, it is scheduled at once.
              if (wasDone) expected.push(o.callback);
              else registered.push(o.callback);
              break;
            case 'remove': {
              const before = registered.length;
              registered = registered.filter((c) => c !== o.callback);
              expect(future.removeDoneCallback(callbacks[o.callback]!)).toBe(before - registered.length);
              break;
            }
            case 'read':
              if (model.state === 'pending') {
                expect(() => future.result()).toThrow(InvalidStateError);
                expect(() => future.exception()).toThrow(InvalidStateError);
              } else if (model.state === 'result') {
                expect(future.result()).toBe(model.value);
                expect(future.exception()).toBeNull();
              } else if (model.state === 'exception') {
                expect(() => future.result()).toThrow(model.error);
                expect(future.exception()).toBe(model.error);
              } else {
                expect(() => future.result()).toThrow(CancelledError);
                expect(() => future.exception()).toThrow(CancelledError);
              }
              break;
            case 'tick':
              await loop.runUntilIdle();
              // Callbacks never run synchronously: only what was scheduled before this tick.
              expect(calls).toEqual(expected);
              break;
          }
          expect(future.done()).toBe(model.state !== 'pending');
          expect(future.cancelled()).toBe(model.state === 'cancelled');
        }
        await loop.runUntilIdle();
        expect(calls).toEqual(expected);
        // The exception was retrieved or the future is dropped here: keep the log quiet.
        if (model.state === 'exception') future.exception();
      }),
      propertyParameters(longRun ? 5000 : 300),
    );
  }, longRun ? 3_600_000 : 60_000);
});
