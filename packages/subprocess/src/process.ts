import {
  toBytes,
  type BytesLike,
  type EventLoop,
  type Future,
  type ReadTransport,
  type SubprocessProtocolLike,
  type SubprocessTransport,
  type WriteTransport,
} from '@aioloop/core';
import { CLOSE_WAITER, DEFAULT_LIMIT, FlowControl, StreamReader, StreamWriter, isConnectionLost, type DrainSource } from './streams.js';
import type { SubprocessPipesTransport } from './transport.js';
import type { SubprocessOptions } from './options.js';

/**
 * The protocol behind {@link Process} (asyncio's SubprocessStreamProtocol):
 * a StreamReader for stdout and stderr, a StreamWriter for stdin, and it
 * closes the transport once the process exited and its output pipes closed.
 */
export class SubprocessStreamProtocol extends FlowControl implements SubprocessProtocolLike, DrainSource {
  /** The child's stdin, when it is a pipe. */
  stdin: StreamWriter | null = null;
  /** The child's stdout, when it is a pipe. */
  stdout: StreamReader | null = null;
  /** The child's stderr, when it is a pipe. */
  stderr: StreamReader | null = null;
  private _transport: SubprocessTransport | null = null;
  private _processExited = false;
  private readonly _pipeFds: number[] = [];
  private readonly _stdinClosed: Future<void>;

  constructor(
    private readonly _limit: number,
    loop: EventLoop,
  ) {
    super(loop);
    this._stdinClosed = loop.createFuture<void>();
  }

  /** Creates the readers and the writer for the pipes the transport has. */
  connectionMade(transport: SubprocessTransport): void {
    this._transport = transport;
    const stdout = transport.getPipeTransport(1);
    if (stdout !== null) {
      this.stdout = new StreamReader({ loop: this.eventLoop, limit: this._limit });
      this.stdout.setTransport(stdout as ReadTransport);
      this._pipeFds.push(1);
    }
    const stderr = transport.getPipeTransport(2);
    if (stderr !== null) {
      this.stderr = new StreamReader({ loop: this.eventLoop, limit: this._limit });
      this.stderr.setTransport(stderr as ReadTransport);
      this._pipeFds.push(2);
    }
    const stdin = transport.getPipeTransport(0);
    if (stdin !== null) this.stdin = new StreamWriter(stdin as WriteTransport, this, null);
  }

  /** Feeds stdout/stderr bytes to their reader. */
  pipeDataReceived(fd: number, data: Buffer): void {
    const reader = fd === 1 ? this.stdout : fd === 2 ? this.stderr : null;
    reader?.feedData(data);
  }

  /** Ends a reader (EOF or its error), or marks stdin closed (waking `drain()`). */
  pipeConnectionLost(fd: number, exc: Error | null): void {
    if (fd === 0) {
      this.stdin?.close();
      this.connectionLost(exc);
      if (!this._stdinClosed.done()) {
        if (exc === null) this._stdinClosed.setResult(undefined);
        else {
          this._stdinClosed.setException(exc);
          this._stdinClosed.exception(); // retrieved: a broken stdin is reported by drain()
        }
      }
      return;
    }
    const reader = fd === 1 ? this.stdout : fd === 2 ? this.stderr : null;
    if (reader !== null) {
      if (exc === null) reader.feedEof();
      else reader.setException(exc);
    }
    const i = this._pipeFds.indexOf(fd);
    if (i !== -1) this._pipeFds.splice(i, 1);
    this._maybeCloseTransport();
  }

  /** Closes the transport once the output pipes closed too. */
  processExited(): void {
    this._processExited = true;
    this._maybeCloseTransport();
  }

  private _maybeCloseTransport(): void {
    if (this._pipeFds.length === 0 && this._processExited && this._transport !== null) {
      this._transport.close();
      this._transport = null;
    }
  }

  /** The future stdin's `waitClosed()` awaits (asyncio's `_get_close_waiter`). */
  [CLOSE_WAITER](writer: StreamWriter): Future<void> | null {
    return writer === this.stdin ? this._stdinClosed : null;
  }
}

/** Options of {@link createSubprocessExec} / {@link createSubprocessShell}: the loop options plus the stream buffer limit. */
export interface CreateSubprocessOptions extends SubprocessOptions {
  /** The buffer limit of the stdout/stderr StreamReaders (default 64 KiB). */
  limit?: number;
}

function gather<T extends unknown[]>(loop: EventLoop, futures: { [K in keyof T]: Future<T[K]> | null }): Future<T> {
  const out = loop.createFuture<T>();
  let left = 0;
  const results: unknown[] = [];
  futures.forEach((future, i) => {
    if (future === null) {
      results[i] = null;
      return;
    }
    left++;
    future.addDoneCallback((f) => {
      if (out.done()) {
        if (!f.cancelled()) f.exception();
        return;
      }
      if (f.cancelled()) {
        out.cancel();
        return;
      }
      const exc = f.exception();
      if (exc !== null && exc !== undefined) {
        out.setException(exc);
        return;
      }
      results[i] = f.result();
      if (--left === 0) out.setResult(results as T);
    });
  });
  if (left === 0) out.setResult(results as T);
  // Cancelling the gathered future cancels the children, as asyncio.gather does.
  out.addDoneCallback((f) => {
    if (f.cancelled()) for (const future of futures) future?.cancel();
  });
  return out;
}

/**
 * A child process with stream I/O (asyncio.subprocess.Process), from
 * {@link createSubprocessExec} or {@link createSubprocessShell}.
 */
export class Process {
  /** The child's process id. */
  readonly pid: number | undefined;

  /** @internal */
  constructor(
    private readonly _transport: SubprocessPipesTransport,
    private readonly _protocol: SubprocessStreamProtocol,
    private readonly _loop: EventLoop,
  ) {
    this.pid = _transport.getPid();
  }

  /** The child's stdin (a StreamWriter), or null unless created with `stdin: 'pipe'`. */
  get stdin(): StreamWriter | null {
    return this._protocol.stdin;
  }

  /** The child's stdout (a StreamReader), or null unless created with `stdout: 'pipe'`. */
  get stdout(): StreamReader | null {
    return this._protocol.stdout;
  }

  /** The child's stderr (a StreamReader), or null unless created with `stderr: 'pipe'`. */
  get stderr(): StreamReader | null {
    return this._protocol.stderr;
  }

  /** The exit code, a negative signal number if a signal killed it, or null while it runs. */
  get returncode(): number | null {
    return this._transport.getReturncode();
  }

  /**
   * Waits for the child to exit and returns its returncode. It does not read
   * the pipes: with a lot of output on a pipe nobody reads, the child blocks
   * and never exits; use {@link Process.communicate} then.
   */
  wait(): Future<number> {
    return this._transport._wait();
  }

  /** Sends `signal` (throws ProcessLookupError once the child is gone). */
  sendSignal(signal: NodeJS.Signals | number): void {
    this._transport.sendSignal(signal);
  }

  /** Sends SIGTERM. */
  terminate(): void {
    this._transport.terminate();
  }

  /** Sends SIGKILL. */
  kill(): void {
    this._transport.kill();
  }

  private async _feedStdin(input: Uint8Array | null): Promise<null> {
    const stdin = this.stdin as StreamWriter;
    try {
      if (input !== null) stdin.write(input);
      await stdin.drain();
    } catch (error) {
      // communicate() ignores a child that stopped reading, as asyncio does.
      if (!isConnectionLost(error)) throw error;
    }
    stdin.close();
    return null;
  }

  private async _readStream(fd: 1 | 2): Promise<Buffer> {
    const transport = this._transport.getPipeTransport(fd);
    const stream = (fd === 2 ? this.stderr : this.stdout) as StreamReader;
    const output = await stream.read();
    transport?.close();
    return output;
  }

  /**
   * Writes `input` to stdin and closes it, reads stdout and stderr to their
   * end — all at once, so large outputs cannot deadlock — then waits for the
   * exit. Returns `[stdout, stderr]` (null for a stream that is not a pipe).
   */
  async communicate(input?: BytesLike | null): Promise<[stdout: Buffer | null, stderr: Buffer | null]> {
    let bytes: Uint8Array | null = null;
    if (input !== undefined && input !== null) {
      bytes = toBytes(input, 'communicate');
      if (this.stdin === null) {
        throw new TypeError("communicate(): input was given but stdin is not a pipe; create the process with stdin: 'pipe'");
      }
    }
    const loop = this._loop;
    const stdinTask = this.stdin !== null ? loop.createTask(() => this._feedStdin(bytes)) : null;
    const stdoutTask = this.stdout !== null ? loop.createTask(() => this._readStream(1)) : null;
    const stderrTask = this.stderr !== null ? loop.createTask(() => this._readStream(2)) : null;
    const [, stdout, stderr] = await gather<[null, Buffer | null, Buffer | null]>(loop, [stdinTask, stdoutTask, stderrTask]);
    await this.wait();
    return [stdout, stderr];
  }

  toString(): string {
    return `<Process ${this.pid}>`;
  }
}

/** @internal Splits the `limit` option off and checks it. */
export function splitLimit(options: CreateSubprocessOptions | undefined, method: string): [number, SubprocessOptions | undefined] {
  if (options === undefined || options === null || typeof options !== 'object') return [DEFAULT_LIMIT, options];
  const { limit, ...rest } = options;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0)) {
    throw new RangeError(`${method}(): limit must be a whole number of bytes > 0, got ${String(limit)}`);
  }
  return [limit ?? DEFAULT_LIMIT, rest];
}

/** @internal */
export function makeProcess(loop: EventLoop, transport: SubprocessPipesTransport, protocol: SubprocessStreamProtocol): Process {
  return new Process(transport, protocol, loop);
}
