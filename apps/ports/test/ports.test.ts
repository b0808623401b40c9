import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// Each asyncio program of programs/ (NN-name.py) runs under CPython and its
// aioloop port (NN-name.ts) under this Node with the built packages; what they
// print must be the same. See README.md for the rules the programs follow.
const programs = fileURLToPath(new URL('../programs/', import.meta.url));
const PYTHON = '/usr/bin/python3';
// A program takes well under a second; the bound only turns a hang into a failure.
const LIMIT_MS = 20_000;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const proc of children.splice(0)) {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) process.kill(proc.pid, 'SIGKILL');
  }
});

/** The command that runs a program: CPython for .py, Node with tsx for .ts. */
function command(file: string): [string, string[]] {
  return file.endsWith('.py') ? [PYTHON, [file]] : [process.execPath, ['--import', 'tsx', file]];
}

/**
 * Starts `file`; `onStdout` sees the output as it comes (the echo test reads
 * the server's port from it). Resolves when the process has exited and its
 * pipes are closed; a process still alive after LIMIT_MS is killed.
 */
function start(file: string, args: string[] = [], onStdout?: (soFar: string) => void): Promise<Outcome> {
  const [cmd, cmdArgs] = command(file);
  const proc = spawn(cmd, [...cmdArgs, ...args], {
    cwd: programs,
    // No debug switches from the environment: the programs set their own.
    env: { ...process.env, NODE_OPTIONS: '', AIOLOOP_DEBUG: '', PYTHONASYNCIODEBUG: '', PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    onStdout?.(stdout);
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (proc.pid !== undefined) process.kill(proc.pid, 'SIGKILL');
    }, LIMIT_MS);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * The one normalisation: TCP port numbers (the servers listen on port 0 and
 * print `port=<n>` for the port they got and for the peer's ephemeral port).
 * Everything else the programs print is deterministic by construction.
 */
function normalise(stdout: string): string {
  return stdout.replace(/\bport=\d+\b/g, 'port=N');
}

/**
 * What a port may write to stderr that CPython's original does not: aioloop's
 * debug-level log records, which the console logger writes to stderr, while
 * Python's logging drops DEBUG records unless configured (docs/mapping.md).
 */
const PORT_STDERR: Record<string, RegExp[]> = {
  '10-runner': [/^Close <_?EventLoop running=false closed=false debug=true>$/],
};

function unexpectedStderr(name: string, stderr: string): string[] {
  const allowed = PORT_STDERR[name] ?? [];
  return stderr.split('\n').filter((line) => line !== '' && !allowed.some((re) => re.test(line)));
}

function expectSameRun(name: string, py: Outcome, ts: Outcome): void {
  expect(py.stderr, `${name}.py wrote to stderr`).toBe('');
  expect(unexpectedStderr(name, ts.stderr), `${name}.ts wrote to stderr`).toEqual([]);
  expect(normalise(ts.stdout)).toBe(normalise(py.stdout));
  expect(py.stdout).not.toBe(''); // a program that printed nothing proves nothing
  expect({ code: ts.code, signal: ts.signal }).toEqual({ code: py.code, signal: py.signal });
}

const names = readdirSync(programs)
  .filter((f) => /^\d\d-.*\.py$/.test(f))
  .map((f) => f.slice(0, -3))
  .sort();
const ECHO_SERVER = '01-echo-server';
const ECHO_CLIENT = '02-echo-client';

describe('asyncio docs programs: the aioloop port prints what CPython prints', () => {
  it('every program has a port and the suite holds the eleven programs of issue 11', () => {
    const ports = new Set(readdirSync(programs).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)));
    expect(names.filter((n) => !ports.has(n))).toEqual([]);
    expect([...ports].filter((n) => !names.includes(n))).toEqual([]);
    expect(names).toHaveLength(11);
    expect(names).toContain(ECHO_SERVER);
    expect(names).toContain(ECHO_CLIENT);
  });

  for (const name of names.filter((n) => n !== ECHO_SERVER && n !== ECHO_CLIENT)) {
    it(name, async () => {
      // One after the other: the two runs do not compete for the CPU.
      const py = await start(`${name}.py`);
      const ts = await start(`${name}.ts`);
      expectSameRun(name, py, ts);
    });
  }
});

describe('asyncio docs echo server and client, each against both implementations', () => {
  /** Runs the server, reads its port from "Serving on ... port=<n>", then runs the client against it. */
  async function echo(server: string, client: string): Promise<{ server: Outcome; client: Outcome }> {
    let announced: (port: string) => void = () => {};
    const port = new Promise<string>((resolve) => (announced = resolve));
    const serverRun = start(server, [], (soFar) => {
      const match = /^Serving on .* port=(\d+)$/m.exec(soFar);
      if (match !== null) announced(match[1]!);
    });
    // A server that dies before announcing its port must fail the test, not hang it.
    const first = await Promise.race([port, serverRun]);
    if (typeof first !== 'string') throw new Error(`${server} exited before serving: ${JSON.stringify(first)}`);
    const clientRun = await start(client, [first]);
    return { server: await serverRun, client: clientRun };
  }

  let reference: { server: Outcome; client: Outcome } | null = null;
  async function cpython(): Promise<{ server: Outcome; client: Outcome }> {
    reference ??= await echo(`${ECHO_SERVER}.py`, `${ECHO_CLIENT}.py`);
    return reference;
  }

  it.each([
    ['aioloop server, CPython client', `${ECHO_SERVER}.ts`, `${ECHO_CLIENT}.py`],
    ['CPython server, aioloop client', `${ECHO_SERVER}.py`, `${ECHO_CLIENT}.ts`],
    ['aioloop server, aioloop client', `${ECHO_SERVER}.ts`, `${ECHO_CLIENT}.ts`],
  ])('%s', async (_title, server, client) => {
    const py = await cpython();
    const run = await echo(server, client);
    expectSameRun(ECHO_SERVER, py.server, run.server);
    expectSameRun(ECHO_CLIENT, py.client, run.client);
  });
});
