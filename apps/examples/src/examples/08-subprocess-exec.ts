import { EventLoop, type Future, SubprocessProtocol } from '@aioloop/core';
import '@aioloop/subprocess';
import type { Output } from './output.js';

/** Collects the child's stdout; resolves `exitFuture` once the process exited and its pipe closed. */
class DateProtocol extends SubprocessProtocol {
  readonly output: Buffer[] = [];
  private pipeClosed = false;
  private exited = false;
  constructor(private readonly exitFuture: Future<boolean>) {
    super();
  }
  override pipeConnectionLost(): void {
    this.pipeClosed = true;
    this.checkForExit();
  }
  override pipeDataReceived(_fd: number, data: Buffer): void {
    this.output.push(data);
  }
  override processExited(): void {
    this.exited = true;
    // processExited() can come before pipeConnectionLost(): wait for both.
    this.checkForExit();
  }
  private checkForExit(): void {
    if (this.pipeClosed && this.exited && !this.exitFuture.done()) this.exitFuture.setResult(true);
  }
}

/** Example 8: subprocessExec() runs a program and collects its output with a SubprocessProtocol. */
export async function subprocessExecExample(out: Output): Promise<void> {
  const loop = new EventLoop();
  try {
    const date = await loop.runUntilComplete(async () => {
      const exitFuture = loop.createFuture<boolean>();
      // Run "node -e" as the child (the asyncio original runs sys.executable).
      const [transport, protocol] = await loop.subprocessExec(
        () => new DateProtocol(exitFuture),
        process.execPath,
        ['-e', 'console.log(new Date().toISOString())'],
        { stdin: 'inherit', stderr: 'inherit' },
      );
      await exitFuture;
      transport.close();
      return Buffer.concat(protocol.output).toString('ascii').trimEnd();
    });
    out(`Current date: ${date}`);
  } finally {
    loop.close();
  }
}
