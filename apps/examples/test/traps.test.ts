import { EventLoop, RuntimeError, sleep } from '@aioloop/core';
import { run } from '@aioloop/policy';
import { describe, expect, it } from 'vitest';

// Issue 11: the traps a user porting asyncio code falls into, each reproduced
// as the user wrote it (the literal port of the asyncio program).

describe('trap 2: run(main()) and loop.runUntilComplete(main())', () => {
  async function main(): Promise<string> {
    await sleep(0.01);
    return 'done';
  }

  it('run(main()) is refused with a message that says to pass main', async () => {
    // @ts-expect-error the types steer toward run(main)
    const error = await run(main()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^run\(\) takes the async function itself: write run\(main\), not run\(main\(\)\)/);
    expect(await run(main)).toBe('done');
  });

  it('loop.runUntilComplete(main()) fails with a message that says to pass main', async () => {
    const loop = new EventLoop();
    try {
      const error = await loop.runUntilComplete(main()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as Error).message).toBe(
        'runUntilComplete() got a promise that failed with "no running event loop": the async function was called before the loop ran. ' +
          'Pass the function itself: runUntilComplete(main), not runUntilComplete(main())',
      );
      expect(((error as Error).cause as Error).message).toBe('no running event loop');
      expect(await loop.runUntilComplete(main)).toBe('done');
      // A promise that does not need the loop before its first await still works (Node interop).
      expect(await loop.runUntilComplete(Promise.resolve(7))).toBe(7);
    } finally {
      loop.close();
    }
  });
});
