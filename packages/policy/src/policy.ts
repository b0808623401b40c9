import { isMainThread, threadId } from 'node:worker_threads';
import { EventLoop, RuntimeError, describeValue } from '@aioloop/core';
import { runningLoopOrNull } from '@aioloop/core/internal';

/**
 * What an event loop policy does (asyncio.AbstractEventLoopPolicy's methods).
 * Extend {@link AbstractEventLoopPolicy} or {@link DefaultEventLoopPolicy}, or
 * implement this interface directly: `setEventLoopPolicy()` accepts any object
 * with these three methods.
 */
export interface EventLoopPolicy {
  /** The current loop of this thread (throws when there is none, as the default policy does). */
  getEventLoop(): EventLoop;
  /** Sets the current loop of this thread (`null` clears it). */
  setEventLoop(loop: EventLoop | null): void;
  /** Creates a new loop; does not make it current. */
  newEventLoop(): EventLoop;
}

const POLICY_BRAND = Symbol.for('@aioloop/policy.policy');

/**
 * Base class of event loop policies (asyncio.AbstractEventLoopPolicy). A policy
 * decides which loop is "current" (what {@link getEventLoop} returns when no
 * loop is running) and how new loops are made (what {@link newEventLoop} and
 * `run()` use). Subclass {@link DefaultEventLoopPolicy} to change only the loop
 * class, or this class for full control.
 */
export abstract class AbstractEventLoopPolicy implements EventLoopPolicy {
  /** @internal Marks policies across copies of this package (ESM and CJS). */
  get [POLICY_BRAND](): true {
    return true;
  }

  /** The current loop of this thread. */
  abstract getEventLoop(): EventLoop;
  /** Sets the current loop of this thread (`null` clears it). */
  abstract setEventLoop(loop: EventLoop | null): void;
  /** Creates and returns a new loop. */
  abstract newEventLoop(): EventLoop;
}

/** @internal The name Python would give this thread, for error messages. */
export function currentThreadName(): string {
  return isMainThread ? 'MainThread' : `Worker-${threadId}`;
}

const LOOP_METHODS = ['callSoon', 'callLater', 'createTask', 'createFuture', 'runForever', 'runUntilComplete', 'stop', 'close', 'isRunning', 'isClosed', 'time'] as const;

/**
 * Whether `value` is an event loop: an `EventLoop` (or subclass), or an object
 * with the loop's methods (a loop from another copy of `@aioloop/core`).
 */
export function isEventLoop(value: unknown): value is EventLoop {
  if (value instanceof EventLoop) return true;
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return LOOP_METHODS.every((name) => typeof record[name] === 'function');
}

/** @internal Throws a TypeError naming `where` unless `loop` is an event loop or null. */
export function checkLoopOrNull(loop: unknown, where: string): void {
  if (loop !== null && !isEventLoop(loop)) {
    throw new TypeError(`${where}: loop must be an EventLoop (from @aioloop/core) or null, got ${describeValue(loop)}`);
  }
}

/** Whether `value` can be installed as a policy. */
function isPolicy(value: unknown): value is EventLoopPolicy {
  if (value === null || typeof value !== 'object') return false;
  if ((value as Record<symbol, unknown>)[POLICY_BRAND] === true) return true;
  const record = value as Record<string, unknown>;
  return typeof record.getEventLoop === 'function' && typeof record.setEventLoop === 'function' && typeof record.newEventLoop === 'function';
}

/**
 * The default policy (asyncio.DefaultEventLoopPolicy, 3.14 semantics): it
 * holds one current loop and creates plain `EventLoop`s. `getEventLoop()`
 * throws a `RuntimeError` when no loop was set; it never creates one silently.
 *
 * A policy object lives in one thread (JavaScript objects cannot be shared
 * between worker threads), so its current loop is that thread's current loop.
 * Override {@link DefaultEventLoopPolicy.newEventLoop} to make another loop class.
 */
export class DefaultEventLoopPolicy extends AbstractEventLoopPolicy {
  private _loop: EventLoop | null = null;

  /** The loop set with `setEventLoop()`; throws a RuntimeError if there is none. */
  getEventLoop(): EventLoop {
    const loop = this._loop;
    if (loop === null) {
      throw new RuntimeError(
        `There is no current event loop in thread '${currentThreadName()}'. ` +
          'Call setEventLoop(newEventLoop()) first, start the program with run(main), ' +
          'or call getEventLoop() from code the loop runs (a callback or a task)',
      );
    }
    return loop;
  }

  /** Makes `loop` the current loop (`null` clears it). Throws a TypeError for anything else. */
  setEventLoop(loop: EventLoop | null): void {
    checkLoopOrNull(loop, 'setEventLoop()');
    this._loop = loop;
  }

  /** A new `EventLoop` (subclasses return their own loop class). Does not make it current. */
  newEventLoop(): EventLoop {
    return new EventLoop();
  }
}

interface PolicyState {
  policy: EventLoopPolicy | null;
}

// One slot per thread (each worker has its own globalThis), shared by the ESM
// and CJS builds of this package if a process loads both.
const STATE_KEY = Symbol.for('@aioloop/policy.thread-state');
const holder = globalThis as unknown as Record<symbol, PolicyState | undefined>;
const state: PolicyState = (holder[STATE_KEY] ??= { policy: null });

/** The policy of this thread; a {@link DefaultEventLoopPolicy} is created on first use. */
export function getEventLoopPolicy(): EventLoopPolicy {
  return (state.policy ??= new DefaultEventLoopPolicy());
}

/**
 * Installs `policy` for this thread; `null` restores a fresh default policy
 * (the old policy's current loop is forgotten, as in asyncio). Throws a
 * TypeError for anything that is not a policy.
 */
export function setEventLoopPolicy(policy: EventLoopPolicy | null): void {
  if (policy !== null && !isPolicy(policy)) {
    throw new TypeError(
      'setEventLoopPolicy(): policy must be an AbstractEventLoopPolicy (or an object with getEventLoop(), ' +
        `setEventLoop() and newEventLoop() methods) or null to restore the default, got ${describeValue(policy)}`,
    );
  }
  state.policy = policy;
}

/**
 * The running loop when called from code a loop runs (a callback, a task, or
 * anything while `runForever()`/`runUntilComplete()` is in progress in this
 * thread); otherwise the policy's current loop. With the default policy that
 * throws a RuntimeError when no loop was set (asyncio 3.14: no implicit loop).
 */
export function getEventLoop(): EventLoop {
  const running = runningLoopOrNull();
  if (running !== null) return running;
  return getEventLoopPolicy().getEventLoop();
}

/** Makes `loop` the current loop of this thread (through the policy); `null` clears it. */
export function setEventLoop(loop: EventLoop | null): void {
  checkLoopOrNull(loop, 'setEventLoop()');
  getEventLoopPolicy().setEventLoop(loop);
}

/** A new loop from the policy (`getEventLoopPolicy().newEventLoop()`). It is not made current. */
export function newEventLoop(): EventLoop {
  return getEventLoopPolicy().newEventLoop();
}
