import { afterEach, describe, expect, it } from 'vitest';
import * as core from '@aioloop/core';
import { EventLoop, RuntimeError, sleep } from '@aioloop/core';
import {
  AbstractEventLoopPolicy,
  DefaultEventLoopPolicy,
  getEventLoop,
  getEventLoopPolicy,
  getRunningLoop,
  isEventLoop,
  newEventLoop,
  run,
  setEventLoop,
  setEventLoopPolicy,
  type EventLoopPolicy,
} from '../src/index.js';
import { VirtualClockLoop } from './helpers.js';

const loops: EventLoop[] = [];
function track<L extends EventLoop>(loop: L): L {
  loops.push(loop);
  return loop;
}
function newLoop(): EventLoop {
  return track(new EventLoop({ debug: false }));
}
afterEach(() => {
  setEventLoopPolicy(null);
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

describe('getEventLoopPolicy / setEventLoopPolicy', () => {
  it('returns the same DefaultEventLoopPolicy on every call until another is set', () => {
    const policy = getEventLoopPolicy();
    expect(policy).toBeInstanceOf(DefaultEventLoopPolicy);
    expect(policy).toBeInstanceOf(AbstractEventLoopPolicy);
    expect(getEventLoopPolicy()).toBe(policy);
  });

  it('installs a policy that getEventLoopPolicy then returns', () => {
    const policy = new DefaultEventLoopPolicy();
    setEventLoopPolicy(policy);
    expect(getEventLoopPolicy()).toBe(policy);
  });

  it('null restores a fresh default policy, forgetting the old current loop', () => {
    const first = getEventLoopPolicy();
    setEventLoop(newLoop());
    const custom = new DefaultEventLoopPolicy();
    setEventLoopPolicy(custom);
    setEventLoopPolicy(null);
    const restored = getEventLoopPolicy();
    expect(restored).toBeInstanceOf(DefaultEventLoopPolicy);
    expect(restored).not.toBe(custom);
    expect(restored).not.toBe(first);
    expect(() => getEventLoop()).toThrow(RuntimeError);
  });

  it.each([
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'default'],
    ['a plain object', {}],
    ['an object missing newEventLoop', { getEventLoop() {}, setEventLoop() {} }],
    ['an event loop', new EventLoop()],
    ['the policy class itself', DefaultEventLoopPolicy],
  ])('rejects %s with a TypeError and keeps the installed policy', (_label, value) => {
    const policy = new DefaultEventLoopPolicy();
    setEventLoopPolicy(policy);
    expect(() => setEventLoopPolicy(value as unknown as EventLoopPolicy)).toThrow(TypeError);
    expect(() => setEventLoopPolicy(value as unknown as EventLoopPolicy)).toThrow(
      /setEventLoopPolicy\(\): policy must be an AbstractEventLoopPolicy .* or null to restore the default, got /,
    );
    expect(getEventLoopPolicy()).toBe(policy);
  });

  it('names what it got in the TypeError', () => {
    expect(() => setEventLoopPolicy(42 as unknown as EventLoopPolicy)).toThrow(/got 42$/);
    expect(() => setEventLoopPolicy(new Map() as unknown as EventLoopPolicy)).toThrow(/got Map object$/);
  });

  it('accepts an object that implements the three policy methods without extending the class', () => {
    const loop = newLoop();
    let current: EventLoop | null = loop;
    const policy: EventLoopPolicy = {
      getEventLoop: () => {
        if (current === null) throw new RuntimeError('none');
        return current;
      },
      setEventLoop: (l) => {
        current = l;
      },
      newEventLoop: () => newLoop(),
    };
    setEventLoopPolicy(policy);
    expect(getEventLoop()).toBe(loop);
    setEventLoop(null);
    expect(current).toBeNull();
  });
});

describe('getEventLoop outside a running loop', () => {
  it('throws a RuntimeError naming the thread when no loop was set, and does not create one', () => {
    expect(() => getEventLoop()).toThrow(RuntimeError);
    expect(() => getEventLoop()).toThrow(/^There is no current event loop in thread 'MainThread'\./);
    // Still none: the failed call did not set a loop behind our back.
    expect(() => getEventLoopPolicy().getEventLoop()).toThrow(RuntimeError);
  });

  it('returns the loop set with setEventLoop, also when it is closed', () => {
    const loop = newLoop();
    setEventLoop(loop);
    expect(getEventLoop()).toBe(loop);
    expect(getEventLoopPolicy().getEventLoop()).toBe(loop);
    loop.close();
    expect(getEventLoop()).toBe(loop);
  });

  it('setEventLoop(null) clears the current loop', () => {
    setEventLoop(newLoop());
    setEventLoop(null);
    expect(() => getEventLoop()).toThrow(/no current event loop/);
  });
});

describe('getEventLoop while a loop runs', () => {
  it('returns the running loop from a callback, not the policy loop', async () => {
    const current = newLoop();
    const running = newLoop();
    setEventLoop(current);
    let seen: EventLoop | null = null;
    running.callSoon(() => {
      seen = getEventLoop();
      running.stop();
    });
    await running.runForever();
    expect(seen).toBe(running);
    expect(getEventLoop()).toBe(current);
  });

  it('returns the running loop inside a task, before and after awaits, with no loop set', async () => {
    const loop = newLoop();
    const seen = await loop.runUntilComplete(async () => {
      const before = getEventLoop();
      await sleep(0.001);
      const after = getEventLoop();
      return [before, after, getRunningLoop()];
    });
    expect(seen).toEqual([loop, loop, loop]);
    expect(() => getEventLoop()).toThrow(RuntimeError);
  });

  it('re-exports getRunningLoop from @aioloop/core', () => {
    expect(getRunningLoop).toBe(core.getRunningLoop);
    expect(() => getRunningLoop()).toThrow(/no running event loop/);
  });
});

describe('setEventLoop', () => {
  it.each([
    ['undefined', undefined],
    ['a number', 1],
    ['a plain object', {}],
    ['a promise', Promise.resolve()],
    ['the EventLoop class', EventLoop],
  ])('rejects %s with a TypeError and keeps the current loop', (_label, value) => {
    const loop = newLoop();
    setEventLoop(loop);
    expect(() => setEventLoop(value as unknown as EventLoop)).toThrow(TypeError);
    expect(() => setEventLoop(value as unknown as EventLoop)).toThrow(
      /^setEventLoop\(\): loop must be an EventLoop \(from @aioloop\/core\) or null, got /,
    );
    expect(getEventLoop()).toBe(loop);
  });

  it('checks the argument before a custom policy sees it', () => {
    const received: unknown[] = [];
    class RecordingPolicy extends DefaultEventLoopPolicy {
      override setEventLoop(loop: EventLoop | null): void {
        received.push(loop);
        super.setEventLoop(loop);
      }
    }
    setEventLoopPolicy(new RecordingPolicy());
    expect(() => setEventLoop('loop' as unknown as EventLoop)).toThrow(TypeError);
    expect(received).toEqual([]);
  });

  it('DefaultEventLoopPolicy.setEventLoop rejects a non-loop too', () => {
    const policy = new DefaultEventLoopPolicy();
    expect(() => policy.setEventLoop({ callSoon() {} } as unknown as EventLoop)).toThrow(TypeError);
    expect(() => policy.getEventLoop()).toThrow(RuntimeError);
  });

  it('accepts a subclass of EventLoop', () => {
    const loop = track(new VirtualClockLoop());
    setEventLoop(loop);
    expect(getEventLoop()).toBe(loop);
  });
});

describe('isEventLoop', () => {
  it('recognises loops and loop subclasses, and nothing else', () => {
    expect(isEventLoop(newLoop())).toBe(true);
    expect(isEventLoop(track(new VirtualClockLoop()))).toBe(true);
    expect(isEventLoop(null)).toBe(false);
    expect(isEventLoop({ callSoon() {} })).toBe(false);
    expect(isEventLoop(EventLoop)).toBe(false);
  });
});

describe('newEventLoop', () => {
  it('returns a new open EventLoop on each call and does not make it current', () => {
    const a = track(newEventLoop());
    const b = track(newEventLoop());
    expect(a).toBeInstanceOf(EventLoop);
    expect(a).not.toBe(b);
    expect(a.isClosed()).toBe(false);
    expect(a.isRunning()).toBe(false);
    expect(() => getEventLoop()).toThrow(RuntimeError);
  });

  it('uses the installed policy', () => {
    class VirtualPolicy extends DefaultEventLoopPolicy {
      override newEventLoop(): EventLoop {
        return track(new VirtualClockLoop());
      }
    }
    setEventLoopPolicy(new VirtualPolicy());
    expect(newEventLoop()).toBeInstanceOf(VirtualClockLoop);
  });
});

describe('a custom policy as a test double', () => {
  class VirtualPolicy extends DefaultEventLoopPolicy {
    made: VirtualClockLoop[] = [];
    override newEventLoop(): VirtualClockLoop {
      const loop = track(new VirtualClockLoop());
      this.made.push(loop);
      return loop;
    }
  }

  /** Application code that knows nothing about tests: it only asks for "the loop". */
  async function applicationCode(): Promise<{ loop: EventLoop; slept: number }> {
    const loop = getEventLoop();
    const start = loop.time();
    await sleep(3600);
    return { loop, slept: loop.time() - start };
  }

  it('runs code that only calls getEventLoop() on the policy loop, with virtual time', async () => {
    const policy = new VirtualPolicy();
    setEventLoopPolicy(policy);
    const realStart = performance.now();
    const result = await run(applicationCode);
    expect(policy.made).toHaveLength(1);
    expect(result.loop).toBe(policy.made[0]);
    expect(result.slept).toBe(3600);
    expect(policy.made[0]?.jumps).toBeGreaterThan(0);
    expect(performance.now() - realStart).toBeLessThan(10_000);
  });

  it('serves the policy loop to getEventLoop() and to code scheduled on it', async () => {
    const policy = new VirtualPolicy();
    setEventLoopPolicy(policy);
    const loop = newEventLoop();
    setEventLoop(loop);
    expect(getEventLoop()).toBe(loop);
    const result = await loop.runUntilComplete(applicationCode);
    expect(result).toEqual({ loop, slept: 3600 });
  });

  it('lets an AbstractEventLoopPolicy subclass decide everything (here: one loop per named context)', () => {
    class ContextPolicy extends AbstractEventLoopPolicy {
      context = 'a';
      readonly loops = new Map<string, EventLoop>();
      getEventLoop(): EventLoop {
        let loop = this.loops.get(this.context);
        if (loop === undefined) {
          loop = this.newEventLoop();
          this.loops.set(this.context, loop);
        }
        return loop;
      }
      setEventLoop(loop: EventLoop | null): void {
        if (loop === null) this.loops.delete(this.context);
        else this.loops.set(this.context, loop);
      }
      newEventLoop(): EventLoop {
        return newLoop();
      }
    }
    const policy = new ContextPolicy();
    setEventLoopPolicy(policy);
    const a = getEventLoop();
    expect(getEventLoop()).toBe(a);
    policy.context = 'b';
    const b = getEventLoop();
    expect(b).not.toBe(a);
    policy.context = 'a';
    expect(getEventLoop()).toBe(a);
    setEventLoop(null);
    expect(getEventLoop()).not.toBe(a);
  });
});
