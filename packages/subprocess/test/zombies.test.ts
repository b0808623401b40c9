import { afterEach, describe, expect, it } from 'vitest';
import { wrapFuture } from '@aioloop/core';
import '../src/index.js';
import { Recorder, childPids, closeLoops, newLoop } from './helpers.js';

afterEach(closeLoops);

describe('no zombies', () => {
  it('spawns 400 short processes (50 at a time) and leaves no child behind', async () => {
    const loop = newLoop();
    const codes = await loop.runUntilComplete(async () => {
      const results: number[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < 400) {
          const i = next++;
          const pipes = i % 2 === 0;
          const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/true', [], pipes ? {} : { stdin: 'devnull', stdout: 'devnull', stderr: 'devnull' });
          await wrapFuture(protocol.done);
          results.push(transport.getReturncode() as number);
        }
      };
      const tasks = Array.from({ length: 50 }, () => loop.createTask(worker));
      for (const task of tasks) await task;
      return results;
    });
    expect(codes).toHaveLength(400);
    expect(codes.every((c) => c === 0)).toBe(true);
    expect(childPids()).toEqual([]);
  }, 180_000);
});
