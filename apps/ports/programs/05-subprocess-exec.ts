// Port of 05-subprocess-exec.py (the asyncio docs' subprocess_exec program) to aioloop.
// The child is this runtime's own interpreter, as sys.executable is Python's.
import { Future, SubprocessProtocol, getRunningLoop, type SubprocessTransport } from '@aioloop/core';
import '@aioloop/subprocess';
import { run } from '@aioloop/policy';

class DateProtocol extends SubprocessProtocol {
  output: Buffer[] = [];
  pipeClosed = false;
  exited = false;

  constructor(private readonly exitFuture: Future<boolean>) {
    super();
  }

  override connectionMade(transport: SubprocessTransport): void {
    console.log('connection made, pid known:', transport.getPid() ? 'yes' : 'no');
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
    // processExited() method can be called before
    // pipeConnectionLost() method: wait until both methods are
    // called.
    this.checkForExit();
  }

  checkForExit(): void {
    if (this.pipeClosed && this.exited) this.exitFuture.setResult(true);
  }

  override connectionLost(): void {
    console.log('connection lost after the exit and the pipe closed:', this.exited && this.pipeClosed ? 'yes' : 'no');
  }
}

async function getOutput(): Promise<string> {
  // Get a reference to the event loop as we plan to use
  // low-level APIs.
  const loop = getRunningLoop();

  const code = 'console.log("line 1"); console.log("line 2"); process.exit(3)';
  const exitFuture = new Future<boolean>(loop);

  // Create the subprocess controlled by DateProtocol;
  // redirect the standard output into a pipe.
  const [transport, protocol] = await loop.subprocessExec(
    () => new DateProtocol(exitFuture),
    process.execPath,
    ['-e', code],
    { stdin: 'inherit', stderr: 'inherit' },
  );

  // Wait for the subprocess exit using the processExited()
  // method of the protocol.
  await exitFuture;
  console.log('returncode:', transport.getReturncode());

  // Close the stdout pipe.
  transport.close();

  // Read the output which was collected by the
  // pipeDataReceived() method of the protocol.
  const data = Buffer.concat(protocol.output);
  return data.toString('ascii').trimEnd();
}

const output = await run(getOutput);
console.log(`Child output: ['${output.split('\n').join("', '")}']`);
