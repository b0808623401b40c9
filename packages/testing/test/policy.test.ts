import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '@aioloop/core';
import { DefaultEventLoopPolicy, getEventLoop, getEventLoopPolicy, newEventLoop, setEventLoop } from '@aioloop/policy';
import { TestLoop, TestLoopPolicy, installTestLoopPolicy, type InstalledTestLoopPolicy } from '../src/index.js';

let installed: InstalledTestLoopPolicy | null = null;
afterEach(() => {
  installed?.restore();
  installed = null;
});

/** Code written for production: it asks the policy for its loop. */
async function productionCode(): Promise<number> {
  const loop = getEventLoop();
  return loop.runUntilComplete(async () => {
    await sleep(86_400);
    return loop.time();
  });
}

describe('TestLoopPolicy', () => {
  it('gives code that calls getEventLoop() a TestLoop, so a day-long sleep takes no real time', async () => {
    installed = installTestLoopPolicy();
    expect(getEventLoopPolicy()).toBe(installed.policy);
    const loop = getEventLoop();
    expect(loop).toBeInstanceOf(TestLoop);
    expect(getEventLoop()).toBe(loop);
    expect(await productionCode()).toBe(86_400);
  });

  it('makes newEventLoop() return TestLoops with the policy options', () => {
    installed = installTestLoopPolicy({ autoAdvance: false, startTime: 5 });
    const loop = newEventLoop() as TestLoop;
    try {
      expect(loop).toBeInstanceOf(TestLoop);
      expect(loop.autoAdvance).toBe(false);
      expect(loop.time()).toBe(5);
      expect(getEventLoop()).not.toBe(loop);
    } finally {
      loop.close();
    }
  });

  it('setEventLoop() chooses the current loop; a closed current loop is replaced on the next getEventLoop()', () => {
    installed = installTestLoopPolicy();
    const mine = new TestLoop();
    setEventLoop(mine);
    expect(getEventLoop()).toBe(mine);
    mine.close();
    const next = getEventLoop();
    expect(next).not.toBe(mine);
    expect(next).toBeInstanceOf(TestLoop);
  });

  it('restore() puts the previous policy back and closes the TestLoop it created', () => {
    const before = getEventLoopPolicy();
    installed = installTestLoopPolicy();
    const loop = getEventLoop();
    installed.restore();
    expect(getEventLoopPolicy()).toBe(before);
    expect(loop.isClosed()).toBe(true);
    expect(getEventLoopPolicy()).toBeInstanceOf(DefaultEventLoopPolicy);
  });

  it('rejects options and loops of the wrong type', () => {
    expect(() => new TestLoopPolicy(null as unknown as object)).toThrow(/options must be TestLoop options/);
    expect(() => new TestLoopPolicy().setEventLoop(42 as unknown as TestLoop)).toThrow(/loop must be an EventLoop or null, got 42/);
  });
});
