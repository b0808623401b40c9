import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/sigint-main.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.json', import.meta.url));

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves when the child printed `line` (rejects if it exits first). */
  waitFor(line: string): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const proc of children.splice(0)) {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) proc.kill('SIGKILL');
  }
});

/** Starts the fixture program in `mode` with the TypeScript sources (tsx). */
function start(mode: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, mode], {
    cwd: packageDir,
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const lines: string[] = [];
  let stderr = '';
  let buffered = '';
  const waiters: { line: string; resolve: () => void }[] = [];
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.line === line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    proc.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return {
    proc,
    lines,
    exited,
    waitFor(line) {
      if (lines.includes(line)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ line, resolve });
        void exited.then(({ code, stderr: err }) => reject(new Error(`child exited (${code}) before printing ${line}: ${lines.join('|')} ${err}`)));
      });
    },
  };
}

function interrupt(child: Child): void {
  const pid = child.proc.pid;
  if (pid === undefined) throw new Error('child has no pid');
  process.kill(pid, 'SIGINT');
}

describe('Ctrl-C (SIGINT) during run()', () => {
  it('cancels main (its finally runs), cleans up the leftover tasks, and exits the process with 130', async () => {
    const child = start('run');
    await child.waitFor('ready');
    interrupt(child);
    const { code, signal, stderr } = await child.exited;
    expect(stderr).toBe('');
    expect(code).toBe(130);
    expect(signal).toBeNull();
    expect(child.lines).toEqual(['ready', 'main caught CancelledError', 'main finally', 'leftover finally']);
  });

  it('makes Runner.run() throw a catchable KeyboardInterrupt and removes its SIGINT listener', async () => {
    const child = start('runner');
    await child.waitFor('ready');
    interrupt(child);
    const { code, stderr } = await child.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(child.lines).toEqual([
      'ready',
      'main caught CancelledError',
      'main finally',
      'runner.run threw KeyboardInterrupt, a KeyboardInterrupt: true',
      'leftover finally',
      'loop closed: true',
      'SIGINT listeners: 0',
    ]);
  });

  it('returns the result normally when main catches the CancelledError and returns', async () => {
    const child = start('swallow');
    await child.waitFor('ready');
    interrupt(child);
    const { code, stderr } = await child.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(child.lines).toEqual(['ready', 'run returned recovered']);
  });

  it('exits with 130 at once on a second Ctrl-C when main ignores the first', async () => {
    const child = start('twice');
    await child.waitFor('ready');
    interrupt(child);
    await child.waitFor('ready again');
    interrupt(child);
    const { code } = await child.exited;
    expect(code).toBe(130);
    expect(child.lines).toEqual(['ready', 'ready again']);
  });

  it('leaves SIGINT to a listener the program installed itself; main is not cancelled', async () => {
    const child = start('own-listener');
    await child.waitFor('ready');
    interrupt(child);
    const { code, stderr } = await child.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(child.lines).toEqual(['ready', 'own listener', 'run returned woken by own listener']);
  });
});
