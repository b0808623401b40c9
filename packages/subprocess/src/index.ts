/**
 * @aioloop/subprocess — asyncio's subprocess API for aioloop event loops:
 * `loop.subprocessExec()` / `loop.subprocessShell()` (a SubprocessTransport
 * and a SubprocessProtocol) and the high-level `createSubprocessExec()` /
 * `createSubprocessShell()` (a {@link Process} with stream I/O). Importing
 * the package installs the two loop methods.
 */
import { EventLoop, getRunningLoop, installLoopMethods, type Future, type SubprocessProtocolLike } from '@aioloop/core';
import { checkClosed } from '@aioloop/core/internal';
import { checkOptions, type SubprocessOptions } from './options.js';
import { startSubprocess, type SubprocessPipesTransport } from './transport.js';
import { Process, SubprocessStreamProtocol, makeProcess, splitLimit, type CreateSubprocessOptions } from './process.js';

export type { StdioSpec, StderrSpec, SubprocessOptions } from './options.js';
export { ProcessLookupError, SubprocessPipesTransport } from './transport.js';
export { Process, SubprocessStreamProtocol, type CreateSubprocessOptions } from './process.js';
export { CLOSE_WAITER, DEFAULT_LIMIT, DRAIN_HELPER, FlowControl, StreamReader, StreamWriter, connectionResetError, type DrainSource } from './streams.js';

/** The shell `subprocessShell` runs commands with. */
export const SHELL = '/bin/sh';

declare module '@aioloop/core' {
  interface EventLoop {
    /**
     * Runs `program` with `args` directly — never through a shell, so nothing
     * in `args` is interpreted — and connects `protocolFactory()`'s protocol
     * to it (asyncio's `loop.subprocess_exec`). stdin, stdout and stderr
     * default to `'pipe'`. A program that cannot be started rejects with
     * Node's error (`code` `'ENOENT'`, naming the program). Invalid arguments
     * throw at once. As asyncio's coroutine, it spawns at once; the Future
     * settles after connectionMade. Cancelling it (or the task awaiting it)
     * before it settles kills the child.
     */
    subprocessExec<P extends SubprocessProtocolLike>(
      protocolFactory: () => P,
      program: string,
      args?: readonly string[],
      options?: SubprocessOptions,
    ): Future<[SubprocessPipesTransport, P]>;
    /**
     * Runs `cmd` through the shell (`/bin/sh -c cmd`), as asyncio's
     * `loop.subprocess_shell`. The shell interprets `cmd`: quote anything
     * that comes from outside (or use `subprocessExec`).
     */
    subprocessShell<P extends SubprocessProtocolLike>(
      protocolFactory: () => P,
      cmd: string,
      options?: SubprocessOptions,
    ): Future<[SubprocessPipesTransport, P]>;
  }
}

function pair<P>(transport: SubprocessPipesTransport, protocol: P): [SubprocessPipesTransport, P] {
  return [transport, protocol];
}

function checkFactory(factory: unknown, method: string): void {
  if (typeof factory !== 'function') {
    throw new TypeError(`${method}(): protocolFactory must be a function returning a SubprocessProtocol, got ${factory === null ? 'null' : typeof factory}`);
  }
}

function checkProgram(program: unknown, args: unknown, method: string): readonly string[] {
  if (typeof program !== 'string' || program.length === 0) {
    throw new TypeError(`${method}(): program must be a non-empty string (a path or a name looked up in PATH), got ${program === null ? 'null' : typeof program}`);
  }
  if (args === undefined) return [];
  if (!Array.isArray(args)) {
    throw new TypeError(`${method}(): args must be an array of strings, got ${args === null ? 'null' : typeof args}`);
  }
  args.forEach((arg, i) => {
    if (typeof arg !== 'string') throw new TypeError(`${method}(): args[${i}] must be a string, got ${arg === null ? 'null' : typeof arg}`);
  });
  return args as readonly string[];
}

function checkCmd(cmd: unknown, method: string): string {
  if (typeof cmd !== 'string' || cmd.length === 0) {
    throw new TypeError(`${method}(): cmd must be a non-empty string (a shell command line), got ${cmd === null ? 'null' : typeof cmd}`);
  }
  return cmd;
}

function subprocessExec<P extends SubprocessProtocolLike>(
  loop: EventLoop,
  protocolFactory: () => P,
  program: string,
  args: readonly string[] | undefined,
  options: SubprocessOptions | undefined,
): Future<[SubprocessPipesTransport, P]> {
  const method = 'subprocessExec';
  checkFactory(protocolFactory, method);
  const argv = checkProgram(program, args, method);
  const checked = checkOptions(options, method, 'pipe');
  checkClosed(loop);
  return startSubprocess(loop, protocolFactory, program, argv, checked, method, pair);
}

function subprocessShell<P extends SubprocessProtocolLike>(
  loop: EventLoop,
  protocolFactory: () => P,
  cmd: string,
  options: SubprocessOptions | undefined,
): Future<[SubprocessPipesTransport, P]> {
  const method = 'subprocessShell';
  checkFactory(protocolFactory, method);
  const line = checkCmd(cmd, method);
  const checked = checkOptions(options, method, 'pipe');
  checkClosed(loop);
  return startSubprocess(loop, protocolFactory, SHELL, ['-c', line], checked, method, pair);
}

installLoopMethods(
  '@aioloop/subprocess',
  {
    subprocessExec(this: EventLoop, factory: () => SubprocessProtocolLike, program: string, args?: readonly string[], options?: SubprocessOptions) {
      return subprocessExec(this, factory, program, args, options);
    },
    subprocessShell(this: EventLoop, factory: () => SubprocessProtocolLike, cmd: string, options?: SubprocessOptions) {
      return subprocessShell(this, factory, cmd, options);
    },
  },
  EventLoop.prototype,
);

/**
 * Starts `program` with `args` (no shell) and returns a {@link Process}
 * (asyncio's `create_subprocess_exec`), on the running loop. As in asyncio,
 * stdin/stdout/stderr default to `'inherit'`: pass `'pipe'` for the streams
 * you want to use. `limit` is the StreamReaders' buffer limit (64 KiB).
 * Call it inside the loop; invalid arguments throw at once. Cancelling the
 * returned Future before it settles kills the child.
 */
export function createSubprocessExec(program: string, args?: readonly string[], options?: CreateSubprocessOptions): Future<Process> {
  const loop = getRunningLoop();
  const [limit, rest] = splitLimit(options, 'createSubprocessExec');
  const argv = checkProgram(program, args, 'createSubprocessExec');
  const checked = checkOptions(rest, 'createSubprocessExec', 'inherit');
  return startSubprocess(loop, () => new SubprocessStreamProtocol(limit, loop), program, argv, checked, 'createSubprocessExec', (transport, protocol) =>
    makeProcess(loop, transport, protocol),
  );
}

/**
 * Runs `cmd` through `/bin/sh -c` and returns a {@link Process} (asyncio's
 * `create_subprocess_shell`). The shell interprets `cmd`: never build it from
 * untrusted input without quoting.
 */
export function createSubprocessShell(cmd: string, options?: CreateSubprocessOptions): Future<Process> {
  const loop = getRunningLoop();
  const [limit, rest] = splitLimit(options, 'createSubprocessShell');
  const line = checkCmd(cmd, 'createSubprocessShell');
  const checked = checkOptions(rest, 'createSubprocessShell', 'inherit');
  return startSubprocess(loop, () => new SubprocessStreamProtocol(limit, loop), SHELL, ['-c', line], checked, 'createSubprocessShell', (transport, protocol) =>
    makeProcess(loop, transport, protocol),
  );
}
