// @aioloop/net: connectWritePipe and connectReadPipe over a child's stdin/stdout (cat).
import { spawn } from 'node:child_process';
import { EventLoop, Protocol } from '@aioloop/core';
import '@aioloop/net';

const loop = new EventLoop();
const child = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
const echoed = await loop.runUntilComplete(async () => {
  const eof = loop.createFuture();
  const chunks = [];
  class Reader extends Protocol {
    dataReceived(data) { chunks.push(data); }
    eofReceived() { eof.setResult(); }
  }
  await loop.connectReadPipe(() => new Reader(), child.stdout);
  const [writer] = await loop.connectWritePipe(() => new Protocol(), child.stdin);
  writer.write(Buffer.from('through a pipe'));
  writer.close();
  await eof;
  return Buffer.concat(chunks).toString();
});
loop.close();
if (echoed !== 'through a pipe') throw new Error(`got ${echoed}`);
console.log('ok: read and write pipes');
