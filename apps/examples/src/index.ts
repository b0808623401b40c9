import { getRunningLoopExample } from './examples/01-get-running-loop.js';
import { runForeverExample } from './examples/02-run-forever.js';
import { callLaterExample } from './examples/03-call-later.js';
import { tcpEchoExample } from './examples/04-tcp-echo.js';
import { connectExistingSocketExample } from './examples/05-connect-existing-socket.js';
import { addReaderExample } from './examples/06-add-reader.js';
import { signalHandlerExample } from './examples/07-signal-handler.js';
import { subprocessExecExample } from './examples/08-subprocess-exec.js';
import type { Output } from './examples/output.js';

// The demo: every example of the asyncio low-level API index that aioloop supports, in order.
const examples: [string, (out: Output) => Promise<void>][] = [
  ['1. getRunningLoop() in a callback and in a task', getRunningLoopExample],
  ['2. newEventLoop() + runForever() with callSoon and stop', runForeverExample],
  ['3. callLater(): the date once a second for five seconds', (out) => callLaterExample(out)],
  ['4. createServer() / createConnection(): a TCP echo server and client', tcpEchoExample],
  ['5. createConnection({ sock }): wrap a connected socket and wait for data', connectExistingSocketExample],
  ['6. addReader(): watch a socketpair fd for read events', addReaderExample],
  ['7. addSignalHandler(): SIGINT and SIGTERM', (out) => signalHandlerExample(out)],
  ['8. subprocessExec(): run a program and collect its output', subprocessExecExample],
];

for (const [title, run] of examples) {
  console.log(`\n== ${title}`);
  await run((line) => console.log(`   ${line}`));
}
console.log('\ndemo finished');
