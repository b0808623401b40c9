import net from 'node:net';
import type { StdioOptions } from 'node:child_process';
import { describeValue } from '@aioloop/core';

/**
 * What one of the child's standard streams is connected to:
 * - `'pipe'`: a new pipe, reached through `getPipeTransport(fd)` (asyncio's `PIPE`);
 * - `'devnull'`: `/dev/null` (asyncio's `DEVNULL`);
 * - `'inherit'`: the same stream as this process (asyncio's `None`);
 * - a number: that file descriptor of this process (asyncio's file descriptor argument).
 */
export type StdioSpec = 'pipe' | 'devnull' | 'inherit' | number;

/** What the child's stderr may be connected to: a {@link StdioSpec} or `'stdout'` (stderr merged into stdout, asyncio's `STDOUT`). */
export type StderrSpec = StdioSpec | 'stdout';

/** Options of `subprocessExec` / `subprocessShell` (asyncio's keyword arguments). */
export interface SubprocessOptions {
  /** The child's stdin (default `'pipe'`). */
  stdin?: StdioSpec;
  /** The child's stdout (default `'pipe'`). */
  stdout?: StdioSpec;
  /** The child's stderr (default `'pipe'`); `'stdout'` merges it into stdout. */
  stderr?: StderrSpec;
  /** The working directory of the child (default: this process's). */
  cwd?: string | URL;
  /** The child's whole environment (default: this process's `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Run the child in a new session (`setsid`), as Popen's `start_new_session`. */
  startNewSession?: boolean;
  /** Run the child as this user id (Popen's `user`). */
  uid?: number;
  /** Run the child with this group id (Popen's `group`). */
  gid?: number;
}

const OPTION_KEYS = new Set(['stdin', 'stdout', 'stderr', 'cwd', 'env', 'startNewSession', 'uid', 'gid']);

const REJECTED: Readonly<Record<string, string>> = {
  bufsize: 'pipes are always unbuffered (asyncio requires bufsize=0 too)',
  shell: 'use subprocessShell() to run a command through /bin/sh; subprocessExec() never uses a shell',
  universalNewlines: 'pipes carry bytes; decode them yourself (asyncio rejects universal_newlines too)',
  text: 'pipes carry bytes; decode them yourself (asyncio rejects text=True too)',
  encoding: 'pipes carry bytes; decode them yourself (asyncio rejects encoding too)',
  errors: 'pipes carry bytes; decode them yourself (asyncio rejects errors too)',
  stdio: 'use the stdin, stdout and stderr options',
  detached: 'use startNewSession',
};

function checkStdio(value: unknown, name: string, method: string, allowStdout: boolean): StderrSpec {
  if (value === 'pipe' || value === 'devnull' || value === 'inherit') return value;
  if (allowStdout && value === 'stdout') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new TypeError(
    `${method}(): ${name} must be 'pipe', 'devnull', 'inherit'${allowStdout ? ", 'stdout'" : ''} or a file descriptor (a whole number >= 0), got ${describeValue(value)}`,
  );
}

/** Validated options with defaults applied. @internal */
export interface CheckedOptions {
  stdin: StdioSpec;
  stdout: StdioSpec;
  stderr: StderrSpec;
  cwd: string | URL | undefined;
  env: NodeJS.ProcessEnv | undefined;
  startNewSession: boolean;
  uid: number | undefined;
  gid: number | undefined;
}

/** Checks the options; `defaultStdio` is `'pipe'` for the loop methods and `'inherit'` for createSubprocess*. @internal */
export function checkOptions(options: unknown, method: string, defaultStdio: StdioSpec): CheckedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${method}(): options must be an object such as { stdout: 'pipe', cwd: '/tmp' }, got ${describeValue(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (o[key] === undefined) continue;
    if (key in REJECTED) throw new TypeError(`${method}(): option ${key} is not supported: ${REJECTED[key]}`);
    if (!OPTION_KEYS.has(key)) {
      throw new TypeError(`${method}(): unknown option ${JSON.stringify(key)}; accepted: ${[...OPTION_KEYS].join(', ')}`);
    }
  }
  const stdin = checkStdio(o.stdin ?? defaultStdio, 'stdin', method, false) as StdioSpec;
  const stdout = checkStdio(o.stdout ?? defaultStdio, 'stdout', method, false) as StdioSpec;
  const stderr = checkStdio(o.stderr ?? defaultStdio, 'stderr', method, true);
  if (o.cwd !== undefined && typeof o.cwd !== 'string' && !(o.cwd instanceof URL)) {
    throw new TypeError(`${method}(): cwd must be a path string or a file: URL, got ${describeValue(o.cwd)}`);
  }
  if (o.env !== undefined && (o.env === null || typeof o.env !== 'object' || Array.isArray(o.env))) {
    throw new TypeError(`${method}(): env must be an object of environment variables, got ${describeValue(o.env)}`);
  }
  if (o.env !== undefined) {
    for (const [k, v] of Object.entries(o.env as object)) {
      if (v !== undefined && typeof v !== 'string') {
        throw new TypeError(`${method}(): env.${k} must be a string, got ${describeValue(v)}`);
      }
    }
  }
  if (o.startNewSession !== undefined && typeof o.startNewSession !== 'boolean') {
    throw new TypeError(`${method}(): startNewSession must be a boolean, got ${describeValue(o.startNewSession)}`);
  }
  for (const key of ['uid', 'gid'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      throw new TypeError(`${method}(): ${key} must be a whole number >= 0, got ${describeValue(v)}`);
    }
  }
  return {
    stdin,
    stdout,
    stderr,
    cwd: o.cwd as string | URL | undefined,
    env: o.env as NodeJS.ProcessEnv | undefined,
    startNewSession: (o.startNewSession as boolean | undefined) ?? false,
    uid: o.uid as number | undefined,
    gid: o.gid as number | undefined,
  };
}

function nodeStdio(spec: StdioSpec): 'pipe' | 'ignore' | 'inherit' | number {
  return spec === 'devnull' ? 'ignore' : spec;
}

/**
 * Node's stdio array for the options. For stderr `'stdout'` with stdout
 * `'pipe'`, Node cannot hand one child pipe to two fds, so stdout and stderr
 * both get one end of a connected Unix socket pair; the other end is read as
 * the merged stdout stream. @internal
 */
export interface PreparedStdio {
  stdio: StdioOptions;
  /** For the merged case: our end (read as fd 1) and the child's end (closed here after spawn). */
  merged: { ours: net.Socket; theirs: net.Socket } | null;
}

let pairCounter = 0;

/** A connected pair of Unix stream sockets (Node has no socketpair(2)), through an abstract-namespace listener. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const name = `\0aioloop-subprocess-${process.pid}-${++pairCounter}-${Math.random().toString(36).slice(2)}`;
  const server = net.createServer({ pauseOnConnect: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => resolve());
    });
    const accepted = new Promise<net.Socket>((resolve, reject) => {
      server.once('connection', resolve);
      server.once('error', reject);
    });
    const client = net.connect(name);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    const peer = await accepted;
    return [peer, client];
  } finally {
    server.close();
  }
}

/** @internal Node's stdio array: at once, or (merged stderr into a piped stdout) once the socket pair is connected. */
export function prepareStdio(o: CheckedOptions): PreparedStdio | Promise<PreparedStdio> {
  const stdin = nodeStdio(o.stdin);
  const stdout = nodeStdio(o.stdout);
  if (o.stderr !== 'stdout') return { stdio: [stdin, stdout, nodeStdio(o.stderr)], merged: null };
  if (o.stdout === 'inherit') return { stdio: [stdin, 'inherit', 1], merged: null };
  if (o.stdout !== 'pipe') return { stdio: [stdin, stdout, stdout], merged: null };
  return socketPair().then(([ours, theirs]) => ({ stdio: [stdin, theirs, theirs], merged: { ours, theirs } }));
}

/** @internal */
export function isPrepared(value: PreparedStdio | Promise<PreparedStdio>): value is PreparedStdio {
  return !(value instanceof Promise);
}
