import { describe, expect, it } from 'vitest';
import { getRunningLoopExample } from '../src/examples/01-get-running-loop.js';
import { runForeverExample } from '../src/examples/02-run-forever.js';
import { callLaterExample } from '../src/examples/03-call-later.js';

async function collect(run: (out: (line: string) => void) => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  await run((line) => lines.push(line));
  return lines;
}

describe('examples from the asyncio low-level API index', () => {
  it('1: getRunningLoop() sees the loop in a task and in a callback', async () => {
    expect(await collect(getRunningLoopExample)).toEqual([
      'in a task: getRunningLoop() is our loop: true',
      'in a callback: getRunningLoop() is our loop: true',
    ]);
  });

  it('2: runForever() runs the callback that stops it', async () => {
    expect(await collect(runForeverExample)).toEqual(['Hello World']);
  });

  it('3: callLater() prints the date five times, one interval apart', async () => {
    const lines = await collect((out) => callLaterExample(out, 0.02));
    expect(lines).toHaveLength(5);
    const times = lines.map((l) => Date.parse(l));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(15);
  });
});
