import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  AbstractTransport,
  ReadPipeTransport,
  WritePipeTransport,
  type AnyProtocolLike,
  type EventLoop,
  type Future,
  type LoopCallback,
  type ReadTransport,
  type SubprocessProtocolLike,
  type SubprocessTransport,
  type WriteTransport,
} from '@aioloop/core';
import { callSoonUnchecked, checkClosed, onLoopClose, runningLoopOrNull, setExceptionUnchecked } from '@aioloop/core/internal';
import { isPrepared, prepareStdio, type CheckedOptions, type PreparedStdio } from './options.js';

const SIGNALS = constants.signals as Readonly<Record<string, number>>;
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, num] of Object.entries(SIGNALS)) if (!SIGNAL_NAMES.has(num)) SIGNAL_NAMES.set(num, name as NodeJS.Signals);

/**
 * The process is gone (asyncio's ProcessLookupError): a signal was sent to a
 * child that already exited, or through a closed transport. `code` is `'ESRCH'`.
 */
export class ProcessLookupError extends Error {
  override name = 'ProcessLookupError';
  /** As Node's system errors: `'ESRCH'` (no such process). */
  readonly code = 'ESRCH';
}

/** A subprocess protocol: asyncio's callbacks (see `SubprocessProtocol` in `@aioloop/core`). */
export type AnySubprocessProtocol = SubprocessProtocolLike;

type PipeFd = 0 | 1 | 2;

/** asyncio's WriteSubprocessPipeProto / ReadSubprocessPipeProto: forwards one pipe's events to the transport. */
class PipeProto implements AnyProtocolLike {
  disconnected = false;
  pipe: ReadTransport | WriteTransport | null = null;
  constructor(
    private proc: SubprocessPipesTransport | null,
    readonly fd: PipeFd,
  ) {}
  connectionMade(transport: never): void {
    this.pipe = transport as ReadTransport | WriteTransport;
    this.proc?._pipeMade();
  }
  connectionLost(exc: Error | null): void {
    this.disconnected = true;
    const proc = this.proc;
    this.proc = null;
    proc?._pipeConnectionLost(this.fd, exc);
  }
  pauseWriting(): void {
    this.proc?.getProtocol().pauseWriting();
  }
  resumeWriting(): void {
    this.proc?.getProtocol().resumeWriting();
  }
  dataReceived(data: Buffer): void {
    this.proc?._pipeDataReceived(this.fd, data);
  }
  eofReceived(): boolean | void {
    return undefined;
  }
}

/** Every open transport per loop, so loop.close() can stop their children. */
const openTransports = new Map<EventLoop, Set<SubprocessPipesTransport>>();

onLoopClose((loop) => {
  const set = openTransports.get(loop);
  if (set === undefined) return;
  openTransports.delete(loop);
  for (const transport of set) transport._abandon();
});

/**
 * A running child and its pipes (asyncio's BaseSubprocessTransport over Node's
 * `child_process.spawn`). Created by `loop.subprocessExec()` /
 * `loop.subprocessShell()`.
 */
export class SubprocessPipesTransport extends AbstractTransport<AnySubprocessProtocol> implements SubprocessTransport {
  /** @internal */ readonly _loop: EventLoop;
  /** @internal */ _child: ChildProcess;
  private readonly _pid: number | undefined;
  private _returncode: number | null = null;
  private _finished = false;
  private _pendingCalls: [LoopCallback, unknown[] | undefined][] | null = [];
  private readonly _pipes = new Map<PipeFd, PipeProto>();
  private _exitWaiters: Future<number>[] = [];

  /** @internal */
  constructor(loop: EventLoop, protocol: AnySubprocessProtocol, child: ChildProcess, extra: Record<string, unknown>) {
    super(protocol, { subprocess: child, ...extra });
    this._loop = loop;
    this._child = child;
    this._pid = child.pid;
    child.on('exit', this._onExit);
    child.on('error', this._onError);
    let set = openTransports.get(loop);
    if (set === undefined) openTransports.set(loop, (set = new Set()));
    set.add(this);
  }

  private _onReady: (() => void) | null = null;
  private _pipesLeft = 0;

  /**
   * @internal Connects the pipes; once every pipe's connectionMade ran,
   * schedules the protocol's connectionMade and the calls queued meanwhile
   * (asyncio's _connect_pipes), then calls `onReady` (which resolves the
   * caller's future, whose callbacks therefore run after connectionMade). The
   * pipe transports start reading in callbacks queued before that, as in asyncio.
   */
  _connectPipes(stdin: Writable | null, stdout: Readable | null, stderr: Readable | null, onReady: () => void): void {
    const loop = this._loop;
    this._onReady = onReady;
    const connect = (fd: PipeFd, stream: Readable | Writable | null): void => {
      if (stream === null) return;
      const proto = new PipeProto(this, fd);
      this._pipes.set(fd, proto);
      this._pipesLeft++;
      proto.pipe =
        fd === 0 ? new WritePipeTransport(loop, stream as Writable, proto) : new ReadPipeTransport(loop, stream as Readable, proto);
    };
    connect(0, stdin);
    connect(1, stdout);
    connect(2, stderr);
    if (this._pipesLeft === 0) this._pipesReady();
  }

  /** @internal A pipe's connectionMade ran. */
  _pipeMade(): void {
    if (--this._pipesLeft === 0) this._pipesReady();
  }

  private _pipesReady(): void {
    const onReady = this._onReady;
    this._onReady = null;
    if (onReady === null || this.isClosing()) return;
    const loop = this._loop;
    this._queued++; // connectionMade goes first: nothing may overtake it
    callSoonUnchecked(loop, this._deliverConnectionMade);
    const pending = this._pendingCalls ?? [];
    this._pendingCalls = null;
    for (const [callback, args] of pending) callSoonUnchecked(loop, callback, args);
    onReady();
  }

  private readonly _deliverConnectionMade = (): void => {
    this._queued--;
    this.protocol.connectionMade(this);
  };

  /** Protocol calls scheduled and not run yet (queued before connectionMade, or in the ready queue). */
  private _queued = 0;

  private _call(callback: LoopCallback, args: unknown[] | undefined): void {
    this._queued++;
    if (this._pendingCalls !== null) this._pendingCalls.push([callback, args]);
    else if (!this._loop.isClosed()) callSoonUnchecked(this._loop, callback, args);
  }

  /** @internal */
  _pipeDataReceived(fd: PipeFd, data: Buffer): void {
    // The pipe transport calls this from a loop context. With nothing of ours
    // queued, the data goes straight to the protocol (as the stream transports
    // deliver dataReceived); otherwise it waits its turn, keeping the order.
    if (this._queued === 0 && this._pendingCalls === null && runningLoopOrNull() === this._loop) {
      try {
        this.protocol.pipeDataReceived(fd, data);
      } catch (exception) {
        this._loop.callExceptionHandler({
          message: 'Exception in protocol.pipeDataReceived()',
          exception,
          transport: this,
          protocol: this.protocol,
        });
      }
      return;
    }
    this._call(this._deliverData, [fd, data]);
  }

  /** @internal */
  _pipeConnectionLost(fd: PipeFd, exc: Error | null): void {
    this._call(this._deliverPipeLost, [fd, exc]);
    this._tryFinish();
  }

  // The protocol is looked up when the call runs, so setProtocol() takes effect for queued events.
  private readonly _deliverData = (fd: PipeFd, data: Buffer): void => {
    this._queued--;
    this.protocol.pipeDataReceived(fd, data);
  };
  private readonly _deliverPipeLost = (fd: PipeFd, exc: Error | null): void => {
    this._queued--;
    this.protocol.pipeConnectionLost(fd, exc);
  };
  private readonly _deliverExited = (): void => {
    this._queued--;
    this.protocol.processExited();
  };

  private readonly _onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (this._returncode !== null) return;
    let returncode: number;
    if (signal !== null) returncode = -(SIGNALS[signal] ?? 0);
    else returncode = code ?? 0;
    this._returncode = returncode;
    if (this._loop.isClosed()) return;
    this._call(this._deliverExited, undefined);
    this._tryFinish();
    // Process.wait() finishes on the process's exit alone (CPython gh-119710),
    // even if a grandchild keeps a pipe open.
    const waiters = this._exitWaiters;
    this._exitWaiters = [];
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(returncode);
  };

  /** Errors Node reports on a running child (a signal it may not send, ...). */
  private _signalError: Error | null = null;
  private _signalling = false;
  private readonly _onError = (error: Error): void => {
    if (this._signalling) {
      this._signalError = error;
      return;
    }
    if (this._loop.isClosed()) return;
    this._loop.callExceptionHandler({ message: 'Error reported by the child process', exception: error, transport: this, protocol: this.protocol });
  };

  /** Sends `sig`; an error Node reports for it (EPERM, ...) is thrown. */
  private _signal(sig: NodeJS.Signals | number): void {
    this._signalling = true;
    this._signalError = null;
    try {
      this._child.kill(sig);
    } finally {
      this._signalling = false;
    }
    const error = this._signalError;
    this._signalError = null;
    if (error !== null) throw error;
  }

  private _tryFinish(): void {
    if (this._finished || this._returncode === null) return;
    for (const proto of this._pipes.values()) if (!proto.disconnected) return;
    this._finished = true;
    this._call(this._callConnectionLost, [null]);
  }

  private readonly _callConnectionLost = (exc: Error | null): void => {
    this._queued--;
    try {
      this.protocol.connectionLost(exc);
    } finally {
      this._forget();
    }
  };

  private _forget(): void {
    const set = openTransports.get(this._loop);
    set?.delete(this);
    if (set?.size === 0) openTransports.delete(this._loop);
  }

  /** @internal The loop closed: stop the child and drop the pipes without callbacks. */
  _abandon(): void {
    this.beginClosing();
    if (this._returncode === null) this._child.kill('SIGKILL');
    for (const proto of this._pipes.values()) {
      const stream = proto.pipe?.getExtraInfo('pipe') as { destroy?: () => void } | undefined;
      stream?.destroy?.();
    }
    this._child.stdin?.destroy();
    this._child.stdout?.destroy();
    this._child.stderr?.destroy();
  }

  // ------------------------------------------------------------- public API

  /** The child's process id. */
  getPid(): number | undefined {
    return this._pid;
  }

  /** The exit code; a negative signal number if a signal killed it (`-9` for SIGKILL); null while it runs. */
  getReturncode(): number | null {
    return this._returncode;
  }

  /**
   * The transport of the child's stdin (0: a write transport), stdout (1) or
   * stderr (2) (read transports), or null when that stream is not a pipe.
   * With `stderr: 'stdout'` there is no fd 2 transport: stderr arrives on fd 1.
   */
  getPipeTransport(fd: 0 | 1 | 2): ReadTransport | WriteTransport | null {
    if (fd !== 0 && fd !== 1 && fd !== 2) {
      throw new TypeError(`getPipeTransport(): fd must be 0 (stdin), 1 (stdout) or 2 (stderr), got ${String(fd)}`);
    }
    return this._pipes.get(fd)?.pipe ?? null;
  }

  /**
   * Sends `signal` (a name such as `'SIGTERM'` or a number) to the child.
   * Throws {@link ProcessLookupError} once the child has exited or the
   * transport is closed: a signal never reaches a recycled pid.
   */
  sendSignal(this: object, signal: NodeJS.Signals | number): void;
  sendSignal(signal: NodeJS.Signals | number): void {
    let name: NodeJS.Signals | number;
    if (typeof signal === 'string') {
      if (SIGNALS[signal] === undefined || !Object.prototype.hasOwnProperty.call(SIGNALS, signal)) {
        throw new RangeError(`sendSignal(): unknown signal name ${JSON.stringify(signal)}; use a name such as 'SIGTERM' or a number`);
      }
      name = signal;
    } else if (typeof signal === 'number' && Number.isInteger(signal) && (signal === 0 || SIGNAL_NAMES.has(signal))) {
      name = signal;
    } else {
      throw new TypeError(`sendSignal(): signal must be a signal name such as 'SIGTERM' or a signal number, got ${String(signal)}`);
    }
    this._checkProc();
    // Node sends nothing once the child was reaped (its handle is gone).
    this._signal(name);
  }

  /** Sends SIGTERM (throws {@link ProcessLookupError} once the child is gone). */
  terminate(this: object): void;
  terminate(): void {
    this._checkProc();
    this._signal('SIGTERM');
  }

  /** Sends SIGKILL (throws {@link ProcessLookupError} once the child is gone). */
  kill(this: object): void;
  kill(): void {
    this._checkProc();
    this._signal('SIGKILL');
  }

  private _checkProc(): void {
    // asyncio raises a bare ProcessLookupError() here: no message.
    if (this._returncode !== null) throw new ProcessLookupError();
  }

  /**
   * Closes every pipe and, if the child still runs, kills it (SIGKILL). Node
   * reaps it; `processExited()` and `connectionLost(null)` follow.
   */
  close(this: object): void;
  close(): void {
    if (!this.beginClosing()) return;
    for (const proto of this._pipes.values()) proto.pipe?.close();
    if (this._returncode === null && this._child.exitCode === null && this._child.signalCode === null) {
      this._child.kill('SIGKILL');
    }
  }

  /** A subprocess protocol is required (with pipeDataReceived, pipeConnectionLost, processExited, ...). */
  protected override validateProtocol(protocol: unknown, where: string): void {
    const p = protocol as AnySubprocessProtocol;
    if (p === null || typeof p !== 'object' || typeof p.pipeDataReceived !== 'function' || typeof p.processExited !== 'function') {
      throw new TypeError(`${where}: protocol must be a subprocess protocol (with pipeDataReceived, pipeConnectionLost, processExited, ...)`);
    }
  }

  /** @internal The returncode once the child exits (asyncio's transport._wait()). */
  _wait(): Future<number> {
    const waiter = this._loop.createFuture<number>();
    if (this._returncode !== null) waiter.setResult(this._returncode);
    else this._exitWaiters.push(waiter);
    return waiter;
  }

  override toString(): string {
    const state = this.isClosing() ? ' closed' : '';
    const status = this._returncode === null ? 'running' : `returncode=${this._returncode}`;
    return `<SubprocessPipesTransport pid=${this._pid}${state} ${status}>`;
  }
}

function checkProtocol(protocol: unknown, method: string): AnySubprocessProtocol {
  const p = protocol as AnySubprocessProtocol;
  if (
    p === null ||
    typeof p !== 'object' ||
    typeof p.connectionMade !== 'function' ||
    typeof p.connectionLost !== 'function' ||
    typeof p.pipeDataReceived !== 'function' ||
    typeof p.pipeConnectionLost !== 'function' ||
    typeof p.processExited !== 'function'
  ) {
    throw new TypeError(
      `${method}(): the protocol factory must return a subprocess protocol (extend SubprocessProtocol from @aioloop/core), got ${p === null ? 'null' : typeof p}`,
    );
  }
  return p;
}

/** Waits for Node's spawn error (it is emitted on the next tick when spawn fails). */
function spawnError(child: ChildProcess, program: string, cwd: string | URL | undefined): Promise<Error> {
  return new Promise((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' && cwd !== undefined) {
        const dir = typeof cwd === 'string' ? cwd : fileURLToPath(cwd);
        if (!existsSync(dir)) error.message += ` (the working directory ${JSON.stringify(dir)} does not exist)`;
      }
      if (error.message.indexOf(program) === -1) error.message += ` (${program})`;
      resolve(error);
    });
  });
}

/**
 * Starts `file` with `args` (no shell) and connects the transport: the shared
 * part of subprocessExec, subprocessShell and createSubprocess*. As asyncio's
 * coroutine does when awaited, it spawns at once (unless stderr is merged
 * into a piped stdout: then once the socket pair is connected). The future
 * resolves with `wrap(transport, protocol)` after connectionMade ran; cancelling
 * it before that closes the transport, which kills the child (Node reaps it).
 * @internal
 */
export function startSubprocess<P extends AnySubprocessProtocol, R>(
  loop: EventLoop,
  protocolFactory: () => P,
  file: string,
  args: readonly string[],
  options: CheckedOptions,
  method: string,
  wrap: (transport: SubprocessPipesTransport, protocol: P) => R,
): Future<R> {
  checkClosed(loop);
  const protocol = checkProtocol(protocolFactory(), method) as P;
  const result = loop.createFuture<R>();
  const fail = (error: unknown): void => {
    if (!result.done() && !loop.isClosed()) callSoonUnchecked(loop, () => result.done() || setExceptionUnchecked(result, error));
  };

  const launch = (stdio: PreparedStdio): void => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        shell: false,
        stdio: stdio.stdio,
        cwd: options.cwd,
        env: options.env,
        detached: options.startNewSession,
        uid: options.uid,
        gid: options.gid,
        windowsHide: true,
      });
    } catch (error) {
      stdio.merged?.ours.destroy();
      fail(error);
      return;
    } finally {
      // The child has its own copy of the merged socket now; ours must go so EOF can happen.
      stdio.merged?.theirs.destroy();
    }
    if (child.pid === undefined) {
      stdio.merged?.ours.destroy();
      void spawnError(child, file, options.cwd).then(fail);
      return;
    }
    const transport = new SubprocessPipesTransport(loop, protocol, child, {});
    result.addDoneCallback((f) => {
      if (f.cancelled()) transport.close();
    });
    const stdout = stdio.merged !== null ? stdio.merged.ours : child.stdout;
    transport._connectPipes(child.stdin, stdout, child.stderr, () => {
      if (result.done()) return;
      let value: R;
      try {
        value = wrap(transport, protocol);
      } catch (error) {
        transport.close();
        result.setException(error);
        return;
      }
      result.setResult(value);
    });
  };

  const prepared = prepareStdio(options);
  if (isPrepared(prepared)) {
    launch(prepared);
  } else {
    prepared.then(
      (stdio) => {
        if (result.done() || loop.isClosed()) {
          stdio.merged?.ours.destroy();
          stdio.merged?.theirs.destroy();
          return;
        }
        launch(stdio);
      },
      fail,
    );
  }
  return result;
}
