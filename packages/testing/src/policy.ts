import { checkOptionKeys } from '@aioloop/core/internal';
import { AbstractEventLoopPolicy, getEventLoopPolicy, setEventLoopPolicy, type EventLoopPolicy } from '@aioloop/policy';
import type { EventLoop } from '@aioloop/core';
import { TEST_LOOP_OPTIONS, TestLoop, type TestLoopOptions } from './test-loop.js';
import { describeValue } from './describe.js';

/**
 * An event loop policy whose loops are {@link TestLoop}s: install it and code
 * that calls `getEventLoop()` / `newEventLoop()` (from `@aioloop/policy`) gets
 * a virtual-time loop. Unlike the default policy, `getEventLoop()` creates the
 * current loop on first use (a closed current loop is replaced), so code under
 * test needs no setup.
 */
export class TestLoopPolicy extends AbstractEventLoopPolicy {
  private current: EventLoop | null = null;
  private readonly options: TestLoopOptions;

  constructor(options: TestLoopOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`TestLoopPolicy(options): options must be TestLoop options such as { autoAdvance: false }, got ${describeValue(options)}`);
    }
    checkOptionKeys(options, 'TestLoopPolicy', TEST_LOOP_OPTIONS);
    this.options = { ...options };
  }

  /** The current loop; a new TestLoop is made current if there is none or it was closed. */
  getEventLoop(): EventLoop {
    if (this.current === null || this.current.isClosed()) this.current = this.newEventLoop();
    return this.current;
  }

  /** Makes `loop` current (`null` clears it; the next `getEventLoop()` creates one). */
  setEventLoop(loop: EventLoop | null): void {
    if (loop !== null && (typeof loop !== 'object' || typeof (loop as EventLoop).runUntilComplete !== 'function')) {
      throw new TypeError(`setEventLoop(): loop must be an EventLoop or null, got ${describeValue(loop)}`);
    }
    this.current = loop;
  }

  /** A new TestLoop with this policy's options (not made current). */
  newEventLoop(): TestLoop {
    return new TestLoop(this.options);
  }
}

/** What {@link installTestLoopPolicy} returns. */
export interface InstalledTestLoopPolicy {
  /** The installed policy. */
  readonly policy: TestLoopPolicy;
  /** Puts the previous policy back (and closes the current TestLoop unless it is running). */
  restore(): void;
}

/**
 * Installs a {@link TestLoopPolicy} for this thread and returns how to undo
 * it, e.g. `beforeEach(() => { installed = installTestLoopPolicy(); })` and
 * `afterEach(() => installed.restore())`.
 */
export function installTestLoopPolicy(options: TestLoopOptions = {}): InstalledTestLoopPolicy {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`installTestLoopPolicy(options): options must be TestLoop options such as { autoAdvance: false }, got ${describeValue(options)}`);
  }
  checkOptionKeys(options, 'installTestLoopPolicy', TEST_LOOP_OPTIONS);
  const previous: EventLoopPolicy = getEventLoopPolicy();
  const policy = new TestLoopPolicy(options);
  setEventLoopPolicy(policy);
  let restored = false;
  return {
    policy,
    restore() {
      if (restored) return;
      restored = true;
      const loop = (policy as unknown as { current: EventLoop | null }).current;
      if (loop !== null && !loop.isRunning()) loop.close();
      if (getEventLoopPolicy() === policy) setEventLoopPolicy(previous);
    },
  };
}
