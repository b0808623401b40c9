import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

// Issue 11, trap 1: a program that leaves a server or a connection open must
// still exit once the loop is closed (asyncio's does), and debug mode names them.
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/left-open.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'aioloop-exit-'));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const proc of children.splice(0)) {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) process.kill(proc.pid, 'SIGKILL');
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  exited: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the fixture; `exited` is false if it was still alive after `limitMs` (then it is killed). */
function runFixture(args: string[], limitMs = 15_000): Promise<Outcome> {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: packageDir,
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig, NODE_OPTIONS: '', AIOLOOP_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => {
    // A generous bound: the program itself takes well under a second; the
    // bound only turns "never exits" into a failure instead of a hang.
    const timer = setTimeout(() => {
      if (proc.pid !== undefined) process.kill(proc.pid, 'SIGKILL');
    }, limitMs);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exited: signal === null, code, stdout, stderr });
    });
  });
}

describe('the process exits after loop.close() with transports and servers left open', () => {
  it('TCP server and connection left open, runUntilComplete + close()', async () => {
    const out = await runFixture(['close']);
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('main done\nclosed\n');
    expect(out).toMatchObject({ exited: true, code: 0 });
  });

  it('the same through policy run()', async () => {
    const out = await runFixture(['run']);
    expect(out.stdout).toBe('main done\nclosed\n');
    expect(out).toMatchObject({ exited: true, code: 0 });
  });

  it('Unix server and connection left open', async () => {
    const out = await runFixture(['unix', join(dir, 's.sock')]);
    expect(out.stdout).toBe('main done\nclosed\n');
    expect(out).toMatchObject({ exited: true, code: 0 });
  });

  it('debug mode names what was left open, as asyncio\'s ResourceWarning', async () => {
    const out = await runFixture(['run-debug']);
    expect(out).toMatchObject({ exited: true, code: 0 });
    expect(out.stderr).toMatch(/unclosed server <Server sockets=\(.*127\.0\.0\.1.*\)> when the loop closed/);
    // The client transport and the server's accepted one.
    expect(out.stderr.match(/unclosed transport <StreamTransport open> when the loop closed/g)).toHaveLength(2);
  });
});
