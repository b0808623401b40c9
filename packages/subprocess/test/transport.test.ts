import { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeError, sleep, wrapFuture, type ExceptionContext, type ReadTransport, type WriteTransport } from '@aioloop/core';
import { ProcessLookupError } from '../src/index.js';
import { Recorder, childPids, closeLoops, newLoop } from './helpers.js';

afterEach(closeLoops);

const PY = '/usr/bin/python3';

describe('subprocessExec: lifecycle and callback order', () => {
  it('calls connectionMade, data per fd, pipeConnectionLost per pipe, processExited, then connectionLost(null) last', async () => {
    const loop = newLoop();
    const result = await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/sh', ['-c', 'printf out; printf err >&2; exit 3']);
      expect(protocol.events[0]).toBe('connectionMade');
      expect(protocol.transport).toBe(transport);
      await wrapFuture(protocol.done);
      return { transport, protocol };
    });
    const { transport, protocol } = result;
    expect(transport.getReturncode()).toBe(3);
    expect(protocol.output(1).toString()).toBe('out');
    expect(protocol.output(2).toString()).toBe('err');
    const ev = protocol.events;
    expect(ev[0]).toBe('connectionMade');
    expect(ev.at(-1)).toBe('connectionLost:null');
    expect(ev.filter((e) => e.startsWith('pipeConnectionLost')).sort()).toEqual([
      'pipeConnectionLost0:null',
      'pipeConnectionLost1:null',
      'pipeConnectionLost2:null',
    ]);
    expect(ev.filter((e) => e === 'processExited')).toHaveLength(1);
    // Data on a pipe comes before that pipe's loss.
    expect(ev.indexOf('data1')).toBeLessThan(ev.indexOf('pipeConnectionLost1:null'));
    expect(ev.indexOf('data2')).toBeLessThan(ev.indexOf('pipeConnectionLost2:null'));
  });

  it('reports the pid, the ChildProcess as extra info "subprocess", and the pipe transports', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/cat', []);
      const child = transport.getExtraInfo('subprocess') as ChildProcess;
      expect(child).toBeInstanceOf(ChildProcess);
      expect(transport.getPid()).toBe(child.pid);
      expect(typeof transport.getPid()).toBe('number');
      expect(transport.getExtraInfo('nope', 'fallback')).toBe('fallback');
      expect(transport.getReturncode()).toBeNull();
      const stdin = transport.getPipeTransport(0) as WriteTransport;
      const stdout = transport.getPipeTransport(1) as ReadTransport;
      expect(typeof stdin.write).toBe('function');
      expect(typeof stdout.pauseReading).toBe('function');
      expect(transport.getPipeTransport(2)).not.toBeNull();
      expect(() => transport.getPipeTransport(3 as 0)).toThrow(/fd must be 0 \(stdin\), 1 \(stdout\) or 2 \(stderr\)/);
      stdin.write(Buffer.from('echo me'));
      stdin.close();
      await wrapFuture(protocol.done);
      expect(protocol.output(1).toString()).toBe('echo me');
      expect(transport.getReturncode()).toBe(0);
    });
  });

  it('has no pipe transport for streams that are devnull, inherit or an fd', async () => {
    const loop = newLoop();
    const dir = mkdtempSync(join(tmpdir(), 'aioloop-sub-'));
    const fd = openSync(join(dir, 'out.txt'), 'w');
    try {
      await loop.runUntilComplete(async () => {
        const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/sh', ['-c', 'echo to-file; cat'], {
          stdin: 'devnull',
          stdout: fd,
          stderr: 'inherit',
        });
        expect(transport.getPipeTransport(0)).toBeNull();
        expect(transport.getPipeTransport(1)).toBeNull();
        expect(transport.getPipeTransport(2)).toBeNull();
        await wrapFuture(protocol.done);
        // cat read EOF at once from /dev/null and exited.
        expect(transport.getReturncode()).toBe(0);
        expect(protocol.events).toEqual(['connectionMade', 'processExited', 'connectionLost:null']);
      });
      expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('to-file\n');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("merges stderr into stdout in write order with stderr: 'stdout'", async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessExec(
        () => new Recorder(),
        '/bin/sh',
        ['-c', 'echo 1; echo 2 >&2; echo 3; echo 4 >&2'],
        { stderr: 'stdout' },
      );
      expect(transport.getPipeTransport(2)).toBeNull();
      expect(transport.getPipeTransport(1)).not.toBeNull();
      await wrapFuture(protocol.done);
      expect(protocol.output(1).toString()).toBe('1\n2\n3\n4\n');
      expect(protocol.output(2).length).toBe(0);
      expect(protocol.events.filter((e) => e.startsWith('pipeConnectionLost')).sort()).toEqual([
        'pipeConnectionLost0:null',
        'pipeConnectionLost1:null',
      ]);
    });
  });

  it('passes cwd and env to the child', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/sh', ['-c', 'pwd; echo "$AIOLOOP_X"'], {
        cwd: '/tmp',
        env: { AIOLOOP_X: 'value-x', PATH: process.env.PATH },
      });
      await wrapFuture(protocol.done);
      expect(protocol.output(1).toString()).toBe('/tmp\nvalue-x\n');
    });
  });
});

describe('subprocessExec: session and user options', () => {
  it('starts the child in a new session with startNewSession', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const script = 'import os; print(os.getsid(0) == os.getpid(), os.getsid(0) == os.getsid(os.getppid()))';
      const [, plain] = await loop.subprocessExec(() => new Recorder(), PY, ['-c', script]);
      const [, own] = await loop.subprocessExec(() => new Recorder(), PY, ['-c', script], { startNewSession: true });
      await wrapFuture(plain.done);
      await wrapFuture(own.done);
      expect(plain.output(1).toString()).toBe('False True\n');
      expect(own.output(1).toString()).toBe('True False\n');
    });
  });

  it.runIf(process.getuid?.() === 0)('runs the child as another user with uid/gid (when the tests run as root)', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/sh', ['-c', 'echo $(id -u) $(id -g)'], { uid: 65534, gid: 65534, cwd: '/' });
      await wrapFuture(protocol.done);
      expect(protocol.output(1).toString()).toBe('65534 65534\n');
    });
  });
});

describe('protocol errors and switching', () => {
  it('reports an exception from pipeDataReceived to the loop and keeps delivering', async () => {
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, context) => contexts.push(context));
    class Throwing extends Recorder {
      override pipeDataReceived(fd: number, data: Buffer): void {
        super.pipeDataReceived(fd, data);
        if (data.includes('boom')) throw new Error('protocol bug');
      }
    }
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessExec(() => new Throwing(), '/bin/sh', ['-c', 'echo boom; sleep 0.1; echo after']);
      await wrapFuture(protocol.done);
      expect(protocol.output(1).toString()).toBe('boom\nafter\n');
      expect(transport.getReturncode()).toBe(0);
    });
    expect(contexts).toHaveLength(1);
    expect((contexts[0]?.exception as Error).message).toBe('protocol bug');
  });

  it('sends later events to the protocol set with setProtocol()', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [transport, first] = await loop.subprocessExec(() => new Recorder(), '/bin/sh', ['-c', 'read x; echo "got $x"']);
      const second = new Recorder();
      transport.setProtocol(second);
      expect(transport.getProtocol()).toBe(second);
      expect(() => transport.setProtocol({} as never)).toThrow(/must be a subprocess protocol/);
      const stdin = transport.getPipeTransport(0) as WriteTransport;
      stdin.write(Buffer.from('hello\n'));
      await wrapFuture(second.done);
      expect(second.output(1).toString()).toBe('got hello\n');
      expect(first.output(1).length).toBe(0);
      expect(first.events).toEqual(['connectionMade']);
    });
  });
});

describe('subprocessExec: no shell, and subprocessShell', () => {
  it('never interprets arguments through a shell', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/echo', ['$HOME; echo injected', '`id`', '*']);
      await wrapFuture(protocol.done);
      expect(protocol.output(1).toString()).toBe('$HOME; echo injected `id` *\n');
    });
  });

  it('runs a shell pipeline through subprocessShell', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessShell(
        () => new Recorder(),
        "printf 'pear\\napple\\nfig\\n' | sort | tr a-z A-Z; exit 7",
      );
      await wrapFuture(protocol.done);
      expect(protocol.output(1).toString()).toBe('APPLE\nFIG\nPEAR\n');
      expect(transport.getReturncode()).toBe(7);
    });
  });
});

describe('signals and close', () => {
  it('reports -9 for a child killed by kill() (SIGKILL), then refuses further signals', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/sleep', ['30']);
      transport.kill();
      await wrapFuture(protocol.done);
      expect(transport.getReturncode()).toBe(-9);
      // asyncio raises a bare ProcessLookupError() (empty message) for each.
      for (const send of [() => transport.sendSignal('SIGTERM'), () => transport.kill(), () => transport.terminate(), () => transport.sendSignal(15)]) {
        let error: unknown = null;
        try {
          send();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ProcessLookupError);
        expect((error as ProcessLookupError).message).toBe('');
        expect((error as NodeJS.ErrnoException).code).toBe('ESRCH');
      }
    });
  });

  it('reports -15 for terminate() and the signal a child gets from sendSignal()', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [t1, p1] = await loop.subprocessExec(() => new Recorder(), '/bin/sleep', ['30']);
      t1.terminate();
      await wrapFuture(p1.done);
      expect(t1.getReturncode()).toBe(-15);

      const [t2, p2] = await loop.subprocessExec(() => new Recorder(), '/bin/sh', [
        '-c',
        'trap "echo got-usr2; exit 4" USR2; echo ready; while :; do sleep 0.05; done',
      ]);
      while (!p2.output(1).toString().includes('ready')) await sleep(0.01);
      t2.sendSignal('SIGUSR2');
      await wrapFuture(p2.done);
      expect(p2.output(1).toString()).toBe('ready\ngot-usr2\n');
      expect(t2.getReturncode()).toBe(4);
      expect(() => t2.sendSignal('SIGNOPE' as NodeJS.Signals)).toThrow(/unknown signal name "SIGNOPE"/);
    });
  });

  it('close() kills a running child, closes every pipe and finishes with connectionLost(null)', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/sleep', ['30']);
      const pid = transport.getPid() as number;
      expect(transport.isClosing()).toBe(false);
      transport.close();
      expect(transport.isClosing()).toBe(true);
      transport.close(); // twice is harmless
      await wrapFuture(protocol.done);
      expect(transport.getReturncode()).toBe(-9);
      expect(protocol.events.filter((e) => e.startsWith('pipeConnectionLost')).sort()).toEqual([
        'pipeConnectionLost0:null',
        'pipeConnectionLost1:null',
        'pipeConnectionLost2:null',
      ]);
      expect(protocol.events.at(-1)).toBe('connectionLost:null');
      expect(childPids()).not.toContain(pid);
    });
  });

  it('close() after the child exited neither signals nor fails', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), '/bin/true', []);
      await wrapFuture(protocol.done);
      transport.close();
      expect(transport.getReturncode()).toBe(0);
    });
  });

  it('loop.close() kills children whose transports are still open', async () => {
    const loop = newLoop();
    const pid = await loop.runUntilComplete(async () => {
      const [transport] = await loop.subprocessExec(() => new Recorder(), '/bin/sleep', ['30']);
      return transport.getPid() as number;
    });
    expect(childPids()).toContain(pid);
    loop.close();
    for (let i = 0; i < 200 && childPids().includes(pid); i++) await new Promise((r) => setTimeout(r, 10));
    expect(childPids()).not.toContain(pid);
  });
});

describe('large transfers with flow control', () => {
  it('moves 50 MiB into stdin while the child writes 50 MiB to stdout and to stderr at once, byte-identical', async () => {
    const loop = newLoop();
    const MiB = 1024 * 1024;
    const input = Buffer.allocUnsafe(50 * MiB);
    for (let i = 0; i < input.length; i += 4) input.writeUInt32LE((i * 2654435761) >>> 0, i);
    // Echo stdin to stdout; write a 50 MiB pattern to stderr from a thread meanwhile.
    const script = [
      'import sys, threading',
      'def err():',
      '    block = bytes(range(256)) * 4096',
      '    for _ in range(50): sys.stderr.buffer.write(block)',
      '    sys.stderr.buffer.flush()',
      't = threading.Thread(target=err); t.start()',
      'while True:',
      '    b = sys.stdin.buffer.read1(65536)',
      '    if not b: break',
      '    sys.stdout.buffer.write(b)',
      'sys.stdout.buffer.flush(); t.join()',
    ].join('\n');
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), PY, ['-c', script]);
      const stdin = transport.getPipeTransport(0) as WriteTransport;
      stdin.write(input);
      expect(protocol.pauses).toBe(1); // 50 MiB is over the 64 KiB high-water mark
      stdin.close();
      await wrapFuture(protocol.done);
      expect(protocol.resumes).toBe(1);
      expect(transport.getReturncode()).toBe(0);
      const out = protocol.output(1);
      expect(out.length).toBe(input.length);
      expect(out.equals(input)).toBe(true);
      const err = protocol.output(2);
      expect(err.length).toBe(50 * MiB);
      expect(err.equals(Buffer.alloc(50 * MiB).fill(Buffer.from(Array.from({ length: 256 }, (_, i) => i))))).toBe(true);
    });
  });

  it('stops reading while the stdout transport is paused and delivers everything after resume', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), PY, [
        '-c',
        'import sys; sys.stdout.buffer.write(b"x" * 4 * 1024 * 1024)',
      ]);
      const stdout = transport.getPipeTransport(1) as ReadTransport;
      stdout.pauseReading();
      expect(stdout.isReading()).toBe(false);
      await sleep(0.3);
      // The child blocks on the full pipe: at most a pipe's worth arrived.
      expect(protocol.output(1).length).toBeLessThan(4 * 1024 * 1024);
      expect(transport.getReturncode()).toBeNull();
      stdout.resumeReading();
      await wrapFuture(protocol.done);
      expect(protocol.output(1).length).toBe(4 * 1024 * 1024);
    });
  });
});

describe('errors', () => {
  it('rejects a missing program with ENOENT naming it, leaving no child behind', async () => {
    const loop = newLoop();
    const before = childPids();
    const error = await loop
      .runUntilComplete(() => loop.subprocessExec(() => new Recorder(), 'aioloop-no-such-program', ['x']))
      .then(
        () => null,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
    expect(error?.code).toBe('ENOENT');
    expect(error?.message).toContain('aioloop-no-such-program');
    expect(childPids()).toEqual(before);
  });

  it('names a missing working directory in the ENOENT error', async () => {
    const loop = newLoop();
    await expect(
      loop.runUntilComplete(() => loop.subprocessExec(() => new Recorder(), '/bin/true', [], { cwd: '/aioloop/no/such/dir' })),
    ).rejects.toThrow(/working directory "\/aioloop\/no\/such\/dir" does not exist/);
  });

  it('rejects bad arguments and options with clear errors', async () => {
    const loop = newLoop();
    const call = (fn: () => Promise<unknown>): Promise<unknown> => loop.runUntilComplete(fn);
    await expect(call(() => loop.subprocessExec('nope' as never, '/bin/true'))).rejects.toThrow(/protocolFactory must be a function/);
    await expect(call(() => loop.subprocessExec(() => new Recorder(), '' as string))).rejects.toThrow(/program must be a non-empty string/);
    await expect(call(() => loop.subprocessExec(() => new Recorder(), '/bin/echo', 'a b' as never))).rejects.toThrow(/args must be an array of strings/);
    await expect(call(() => loop.subprocessExec(() => new Recorder(), '/bin/echo', [1 as never]))).rejects.toThrow(/args\[0\] must be a string/);
    await expect(call(() => loop.subprocessExec(() => new Recorder(), '/bin/true', [], { bufsize: 1 } as never))).rejects.toThrow(/bufsize is not supported/);
    await expect(call(() => loop.subprocessExec(() => new Recorder(), '/bin/true', [], { shell: true } as never))).rejects.toThrow(/use subprocessShell/);
    await expect(call(() => loop.subprocessExec(() => new Recorder(), '/bin/true', [], { colour: 1 } as never))).rejects.toThrow(/unknown option "colour"; accepted: stdin, stdout/);
    await expect(call(() => loop.subprocessExec(() => new Recorder(), '/bin/true', [], { stdin: 'stdout' as never }))).rejects.toThrow(/stdin must be 'pipe', 'devnull', 'inherit' or a file descriptor/);
    await expect(call(() => loop.subprocessExec(() => new Recorder(), '/bin/true', [], { stderr: -1 }))).rejects.toThrow(/stderr must be .*'stdout'/);
    await expect(call(() => loop.subprocessExec(() => ({}) as never, '/bin/true'))).rejects.toThrow(/must return a subprocess protocol/);
    await expect(call(() => loop.subprocessShell(() => new Recorder(), ['ls'] as never))).rejects.toThrow(/cmd must be a non-empty string/);
    expect(childPids()).toEqual([]);
  });

  it('kills and reaps the child when subprocessExec is cancelled before it settles', async () => {
    const loop = newLoop();
    for (let delay = 0; delay <= 6; delay++) {
      const outcome = await loop.runUntilComplete(async () => {
        const future = loop.subprocessExec(() => new Recorder(), '/bin/sleep', ['30'], { stderr: 'stdout' });
        for (let i = 0; i < delay; i++) await sleep(0);
        future.cancel();
        try {
          const [transport, protocol] = await future;
          transport.close();
          await wrapFuture(protocol.done);
          return 'started';
        } catch (error) {
          return (error as Error).name;
        }
      });
      expect(['CancelledError', 'started']).toContain(outcome);
      for (let i = 0; i < 100 && childPids().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(childPids()).toEqual([]);
    }
  });

  it('throws on a closed loop', () => {
    const loop = newLoop();
    loop.close();
    expect(() => loop.subprocessExec(() => new Recorder(), '/bin/true')).toThrow(RuntimeError);
  });
});

