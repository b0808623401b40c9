// Port of 06-signal-handler.py (the asyncio docs' add_signal_handler program) to aioloop.
import { EventLoop, RuntimeError, getRunningLoop, sleep } from '@aioloop/core';
import '@aioloop/signals';
import { run } from '@aioloop/policy';

function askExit(signame: string, loop: EventLoop): void {
  console.log(`got signal ${signame}: exit`);
  loop.stop();
}

async function main(): Promise<void> {
  const loop = getRunningLoop();

  for (const signame of ['SIGINT', 'SIGTERM']) {
    loop.addSignalHandler(signame, askExit, signame, loop);
  }

  process.kill(process.pid, 'SIGTERM');
  await sleep(3600);
}

console.log('Event loop running for 1 hour, press Ctrl+C to interrupt.');
console.log('pid <pid>: send SIGINT or SIGTERM to exit.');

try {
  await run(main);
} catch (exc) {
  if (!(exc instanceof RuntimeError)) throw exc;
  console.log('run() raised RuntimeError:', exc.message);
}

async function waitForSignal(): Promise<void> {
  const loop = getRunningLoop();
  const got = loop.createFuture<string>();
  // asyncio passes got.set_result itself; a detached method does not compile here.
  loop.addSignalHandler('SIGUSR1', (name: string) => got.setResult(name), 'SIGUSR1');
  process.kill(process.pid, 'SIGUSR1');
  console.log('got', await got);
  console.log('removed:', loop.removeSignalHandler('SIGUSR1') ? 'yes' : 'no');
  console.log('removed again:', loop.removeSignalHandler('SIGUSR1') ? 'yes' : 'no');
}

await run(waitForSignal);
