import { EventLoop, getRunningLoop, sleep } from '@aioloop/core';

// Runs the examples that need only @aioloop/core; the others join as their packages land.
const loop = new EventLoop();

async function main(): Promise<void> {
  console.log('1. getRunningLoop() inside a task returns the loop:', getRunningLoop() === loop);
  const seen: string[] = [];
  loop.callLater(0.02, () => seen.push('callLater(0.02)'));
  loop.callSoon(() => seen.push('callSoon'));
  await sleep(0.05);
  console.log('2. callSoon runs before a later timer:', seen.join(' -> '));
  const started = loop.time();
  for (let i = 1; i <= 3; i++) {
    await sleep(0.1);
    console.log(`3. tick ${i} at +${(loop.time() - started).toFixed(2)} s`);
  }
}

await loop.runUntilComplete(main);
loop.close();
console.log('demo finished');
