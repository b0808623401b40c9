import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLoop, Protocol, RuntimeError, getRunningLoop, type ExceptionContext } from '@aioloop/core';
import { installGracefulShutdown, signalName, signalNumber } from '../src/index.js';
import '@aioloop/net';
import net from 'node:net';

const loops: EventLoop[] = [];
function newLoop(): EventLoop {
  const loop = new EventLoop({ debug: false });
  loops.push(loop);
  return loop;
}
afterEach(() => {
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

/** Runs the loop for `seconds` of real time. */
async function runFor(loop: EventLoop, seconds: number): Promise<void> {
  loop.callLater(seconds, () => loop.stop());
  await loop.runForever();
}

/** Real time passing without running any loop. */
function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** Runs a fixture script in a child node process through tsx; resolves with its output and how it ended. */
function runFixture(
  script: string,
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<{ stdout: string; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `${here}fixtures/${script}`], {
      env: { ...process.env, TSX_TSCONFIG_PATH: `${here}fixtures/tsconfig.json` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      onStdout?.(stdout, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, code, signal });
    });
  });
}

describe('addSignalHandler with real signals', () => {
  it('runs the handler for a real SIGUSR2 as a loop callback with its arguments', async () => {
    const loop = newLoop();
    const calls: unknown[][] = [];
    let ranInLoop = false;
    loop.addSignalHandler('SIGUSR2', (a: number, b: string) => {
      calls.push([a, b]);
      ranInLoop = getRunningLoop() === loop;
      loop.stop();
    }, 1, 'two');
    loop.callSoon(() => process.kill(process.pid, 'SIGUSR2'));
    const guard = loop.callLater(5, () => loop.stop());
    await loop.runForever();
    guard.cancel();
    expect(calls).toEqual([[1, 'two']]);
    expect(ranInLoop).toBe(true);
    expect(loop.removeSignalHandler('SIGUSR2')).toBe(true);
  });

  it('does not run the handler inside Node\'s signal listener: it waits for the loop to run', async () => {
    const loop = newLoop();
    let called = 0;
    loop.addSignalHandler('SIGUSR2', () => called++);
    process.kill(process.pid, 'SIGUSR2');
    await realDelay(100); // Node's listener has run by now; the loop has not
    expect(called).toBe(0);
    await runFor(loop, 0.05);
    expect(called).toBe(1);
  });

  it('a signal arriving while a callback runs is handled after it, once, and the loop goes on', async () => {
    const loop = newLoop();
    const order: string[] = [];
    loop.addSignalHandler('SIGUSR2', () => {
      order.push('handler');
      loop.callSoon(() => {
        order.push('after');
        loop.stop();
      });
    });
    loop.callSoon(() => {
      order.push('callback start');
      process.kill(process.pid, 'SIGUSR2');
      // Busy for a moment with the signal pending: the handler must not cut in.
      const until = Date.now() + 20;
      while (Date.now() < until);
      order.push('callback end');
    });
    // A generous bound for the signal to arrive on a loaded machine.
    const watchdog = loop.callLater(10, () => loop.stop());
    await loop.runForever();
    watchdog.cancel();
    expect(order).toEqual(['callback start', 'callback end', 'handler', 'after']);
  });

  it('accepts a signal number as well as a name', async () => {
    const loop = newLoop();
    let called = 0;
    loop.addSignalHandler(constants.signals.SIGUSR2, () => called++);
    process.kill(process.pid, 'SIGUSR2');
    await realDelay(50);
    await runFor(loop, 0.05);
    expect(called).toBe(1);
    expect(loop.removeSignalHandler('SIGUSR2')).toBe(true);
  });

  it('keeps one handler per signal per loop: adding again replaces the old one', async () => {
    const loop = newLoop();
    const seen: string[] = [];
    const before = process.listenerCount('SIGUSR2');
    loop.addSignalHandler('SIGUSR2', () => seen.push('old'));
    loop.addSignalHandler('SIGUSR2', () => seen.push('new'));
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    process.kill(process.pid, 'SIGUSR2');
    await realDelay(50);
    await runFor(loop, 0.05);
    expect(seen).toEqual(['new']);
    loop.removeSignalHandler('SIGUSR2');
  });

  it('delivers one signal to every loop that handles it', async () => {
    const a = newLoop();
    const b = newLoop();
    const seen: string[] = [];
    a.addSignalHandler('SIGUSR2', () => seen.push('a'));
    b.addSignalHandler('SIGUSR2', () => seen.push('b'));
    process.kill(process.pid, 'SIGUSR2');
    await realDelay(50);
    await runFor(a, 0.02);
    await runFor(b, 0.02);
    expect(seen).toEqual(['a', 'b']);
    a.removeSignalHandler('SIGUSR2');
    b.removeSignalHandler('SIGUSR2');
  });

  it('reports an exception thrown by the handler to the loop and keeps running', async () => {
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, context) => contexts.push(context));
    const boom = new Error('boom');
    loop.addSignalHandler('SIGUSR2', () => {
      throw boom;
    });
    let after = false;
    process.kill(process.pid, 'SIGUSR2');
    await realDelay(50);
    loop.callSoon(() => loop.callSoon(() => (after = true)));
    await runFor(loop, 0.05);
    expect(contexts.map((c) => c.exception)).toEqual([boom]);
    expect(after).toBe(true);
    loop.removeSignalHandler('SIGUSR2');
  });
});

describe('removeSignalHandler', () => {
  it('returns true once, then false, and removes the Node listener with the last handler', async () => {
    const loop = newLoop();
    const before = process.listenerCount('SIGUSR2');
    let called = 0;
    loop.addSignalHandler('SIGUSR2', () => called++);
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    expect(loop.removeSignalHandler('SIGUSR2')).toBe(true);
    expect(loop.removeSignalHandler('SIGUSR2')).toBe(false);
    expect(loop.removeSignalHandler(constants.signals.SIGHUP)).toBe(false);
    expect(process.listenerCount('SIGUSR2')).toBe(before);
    // Keep the test process alive through the signal with a listener of our own.
    const keep = (): void => {};
    process.on('SIGUSR2', keep);
    process.kill(process.pid, 'SIGUSR2');
    await realDelay(50);
    process.removeListener('SIGUSR2', keep);
    await runFor(loop, 0.02);
    expect(called).toBe(0);
  });

  it('keeps the Node listener while another loop still handles the signal', () => {
    const a = newLoop();
    const b = newLoop();
    const before = process.listenerCount('SIGUSR2');
    a.addSignalHandler('SIGUSR2', () => {});
    b.addSignalHandler('SIGUSR2', () => {});
    expect(a.removeSignalHandler('SIGUSR2')).toBe(true);
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    expect(b.removeSignalHandler('SIGUSR2')).toBe(true);
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('is done for every handler of a loop by loop.close()', () => {
    const loop = newLoop();
    const usr2 = process.listenerCount('SIGUSR2');
    const hup = process.listenerCount('SIGHUP');
    loop.addSignalHandler('SIGUSR2', () => {});
    loop.addSignalHandler('SIGHUP', () => {});
    loop.close();
    expect(process.listenerCount('SIGUSR2')).toBe(usr2);
    expect(process.listenerCount('SIGHUP')).toBe(hup);
    expect(loop.removeSignalHandler('SIGHUP')).toBe(false);
  });

  it('restores Node\'s default action: a child that handled SIGINT then removed the handler dies by SIGINT', async () => {
    const result = await runFixture('sigint-default.ts');
    expect(result.stdout).toBe('handled\nremoved=true listeners=0\n');
    expect(result.signal).toBe('SIGINT');
  });
});

describe('bad arguments', () => {
  it('rejects SIGKILL and SIGSTOP, by name and number, as uncatchable', () => {
    const loop = newLoop();
    for (const sig of ['SIGKILL', 'SIGSTOP', 9, constants.signals.SIGSTOP] as const) {
      expect(() => loop.addSignalHandler(sig, () => {})).toThrow(/cannot be caught/);
    }
  });

  it('rejects unknown names and numbers, naming what is accepted', () => {
    const loop = newLoop();
    expect(() => loop.addSignalHandler('SIGNOPE' as NodeJS.Signals, () => {})).toThrow(/unknown signal name "SIGNOPE".*'SIGINT'/);
    expect(() => loop.addSignalHandler('sigint' as NodeJS.Signals, () => {})).toThrow(RangeError);
    expect(() => loop.addSignalHandler('toString' as NodeJS.Signals, () => {})).toThrow(RangeError);
    expect(() => loop.addSignalHandler(999, () => {})).toThrow(/invalid signal number 999/);
    expect(() => loop.addSignalHandler(0, () => {})).toThrow(RangeError);
    expect(() => loop.addSignalHandler(2.5, () => {})).toThrow(RangeError);
    expect(() => loop.removeSignalHandler(999)).toThrow(/invalid signal number/);
    expect(() => loop.addSignalHandler({} as unknown as number, () => {})).toThrow(TypeError);
  });

  it('rejects a callback that is not a plain function', () => {
    const loop = newLoop();
    const before = process.listenerCount('SIGUSR2');
    expect(() => loop.addSignalHandler('SIGUSR2', 'nope' as unknown as () => void)).toThrow(/callback must be a function/);
    expect(() => loop.addSignalHandler('SIGUSR2', async () => {})).toThrow(/async functions cannot be used/);
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('rejects adding a handler on a closed loop', () => {
    const loop = newLoop();
    loop.close();
    expect(() => loop.addSignalHandler('SIGUSR2', () => {})).toThrow(RuntimeError);
  });

  it('converts between signal names and numbers', () => {
    expect(signalNumber('SIGINT')).toBe(constants.signals.SIGINT);
    expect(signalName(constants.signals.SIGTERM)).toBe('SIGTERM');
    expect(signalName('SIGIOT')).toBe('SIGABRT');
    expect(() => signalName(12345)).toThrow(RangeError);
  });
});

describe('installGracefulShutdown', () => {
  it('with a real TCP server: the signal stops accepting, closes the connected client, and waits for it', async () => {
    const loop = newLoop();
    const client = await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Protocol(), '127.0.0.1', 0);
      const port = (server.sockets[0]!.getsockname() as [string, number])[1];
      const sock = net.connect(port, '127.0.0.1');
      const ended = new Promise<void>((resolve) => sock.once('close', () => resolve()));
      sock.on('error', () => {});
      await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
      const shutdown = installGracefulShutdown(loop, { signals: ['SIGUSR2'], closeables: [server] });
      loop.callSoon(() => process.kill(process.pid, 'SIGUSR2'));
      expect(await shutdown.done).toBe('SIGUSR2');
      expect(server.isServing()).toBe(false);
      return { port, ended };
    });
    await client.ended; // the server closed the connection
    // Nothing listens any more: a new connection is refused.
    const refused = await new Promise<string>((resolve) => {
      const probe = net.connect(client.port, '127.0.0.1');
      probe.once('connect', () => {
        probe.destroy();
        resolve('connected');
      });
      probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('on the first signal calls each step in order (close, stopAccepting, closeClients, waitClosed, cleanup), then removes its handlers', async () => {
    const loop = newLoop();
    const steps: string[] = [];
    const server = {
      close: () => steps.push('server.close'),
      closeClients: () => steps.push('server.closeClients'),
      waitClosed: async () => {
        steps.push('server.waitClosed');
      },
    };
    const before = process.listenerCount('SIGUSR2');
    const shutdown = installGracefulShutdown(loop, {
      signals: ['SIGUSR2'],
      closeables: [server],
      stopAccepting: () => steps.push('stopAccepting'),
      closeClients: () => steps.push('closeClients'),
      cleanup: async () => {
        steps.push('cleanup');
      },
    });
    expect(shutdown.trigger).toBeNull();
    loop.callSoon(() => process.kill(process.pid, 'SIGUSR2'));
    const result = await loop.runUntilComplete(shutdown.done);
    expect(result).toBe('SIGUSR2');
    expect(shutdown.trigger).toBe('SIGUSR2');
    expect(steps).toEqual(['server.close', 'stopAccepting', 'server.closeClients', 'closeClients', 'server.waitClosed', 'cleanup']);
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('calls forceExit with the signal when a second one arrives during the shutdown', async () => {
    const loop = newLoop();
    const forced: string[] = [];
    const release = loop.createFuture<void>();
    const shutdown = installGracefulShutdown(loop, {
      signals: ['SIGUSR2', 'SIGHUP'],
      cleanup: () => release,
      forceExit: (sig) => {
        forced.push(sig);
        release.setResult();
      },
    });
    loop.callSoon(() => process.kill(process.pid, 'SIGUSR2'));
    loop.callLater(0.1, () => process.kill(process.pid, 'SIGHUP'));
    expect(await loop.runUntilComplete(shutdown.done)).toBe('SIGUSR2');
    expect(forced).toEqual(['SIGHUP']);
  });

  it('runs every step even when one throws, and rejects done with the first error', async () => {
    const loop = newLoop();
    const steps: string[] = [];
    const bad = new Error('close failed');
    const shutdown = installGracefulShutdown(loop, {
      signals: ['SIGUSR2'],
      closeables: [{ close: () => { throw bad; } }],
      cleanup: () => steps.push('cleanup'),
    });
    await expect(loop.runUntilComplete(() => shutdown.shutdown())).rejects.toBe(bad);
    expect(steps).toEqual(['cleanup']);
    expect(shutdown.trigger).toBe('manual');
  });

  it('rejects bad options clearly', () => {
    const loop = newLoop();
    expect(() => installGracefulShutdown(loop, { closeables: [{} as never] })).toThrow(/closeables\[0\] must be an object with a close\(\) method/);
    expect(() => installGracefulShutdown(loop, { cleanup: 5 as never })).toThrow(/cleanup must be a function/);
    expect(() => installGracefulShutdown(loop, { signals: ['SIGKILL'] })).toThrow(/cannot be caught/);
    expect(() => installGracefulShutdown(loop, { signals: [] })).toThrow(/at least one signal/);
  });

  it('exits at once on a second SIGINT while the cleanup hangs (in a child process)', async () => {
    let sent = 0;
    const result = await runFixture('graceful-child.ts', (out, child) => {
      if (sent === 0 && out.includes('ready\n')) {
        sent = 1;
        child.kill('SIGINT');
      } else if (sent === 1 && out.includes('cleanup-started\n')) {
        sent = 2;
        child.kill('SIGINT');
      }
    });
    expect(result.stdout).toBe('ready\nstop-accepting\ncleanup-started\n');
    expect(result.signal === 'SIGINT' || result.code === 130).toBe(true);
  });
});
