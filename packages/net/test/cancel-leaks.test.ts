import { readdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CancelledError, Protocol, type EventLoop, type Future, type Task } from '@aioloop/core';
import { newLoop, onCleanup, waitFor } from './support.js';

// Issue 14 "three leaks": every create/connect/accept path cancelled at each
// step (0, 1, 2, 3, 5, 8, ... loop iterations after the call) must leave no
// socket open: file descriptors and listening handles are counted.

const dir = mkdtempSync(join(tmpdir(), 'aioloop-leaks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

function listenerCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'PipeServerWrap').length;
}

/** A future done after `n` loop iterations (a chain of callSoon). */
function iterations(loop: EventLoop, n: number): Future<void> {
  const done = loop.createFuture<void>();
  const step = (left: number): void => {
    if (left === 0) done.setResult(undefined);
    else loop.callSoon(step, left - 1);
  };
  step(n);
  return done;
}

const STEPS = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584];

/** A Node peer on 127.0.0.1 (or a Unix path) that closes what it accepts when the client goes. */
async function startPeer(path?: string): Promise<{ port: number; path: string | undefined; open: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const peer = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  await new Promise<void>((resolve) => (path === undefined ? peer.listen(0, '127.0.0.1', resolve) : peer.listen(path, resolve)));
  const address = peer.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    path,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        peer.close(() => resolve());
      }),
  };
}

/**
 * Runs `start()` and cancels its task after each number of iterations in
 * STEPS (until the task completes first), checking every time that the task
 * ends cancelled (or, if it won the race, that closing what it made is
 * enough) and that the fd and listener counts come back.
 */
async function cancelAtEachStep<T>(
  loop: EventLoop,
  start: () => Task<T>,
  closeResult: (result: T) => void,
  settled: () => boolean = () => true,
): Promise<{ cancelled: number; completed: number }> {
  const fds = fdCount();
  const listeners = listenerCount();
  let cancelled = 0;
  let completed = 0;
  for (const steps of STEPS) {
    const task = start();
    if (steps === 0) task.cancel();
    else {
      await iterations(loop, steps);
      task.cancel();
    }
    try {
      closeResult(await task);
      completed++;
    } catch (error) {
      expect(error).toBeInstanceOf(CancelledError);
      cancelled++;
    }
    await waitFor(loop, () => fdCount() <= fds && listenerCount() <= listeners && settled(), 10, `fds and listeners back after a cancel at step ${steps}`);
    if (completed > 0) break;
  }
  expect(cancelled).toBeGreaterThan(0);
  return { cancelled, completed };
}

describe('cancelling a create/connect call at each step leaks nothing', () => {
  it.each([
    ['an address', '127.0.0.1'],
    ['a host name to resolve', 'localhost'],
  ])('createConnection (TCP) to %s', async (_label, host) => {
    const loop = newLoop();
    const peer = await startPeer();
    onCleanup(() => void peer.close());
    await loop.runUntilComplete(() =>
      cancelAtEachStep(
        loop,
        () => loop.createConnection(() => new Protocol(), host, peer.port, { family: 2 }),
        ([transport]) => transport.abort(),
        () => peer.open() === 0,
      ),
    );
  });

  it('createUnixConnection', async () => {
    const loop = newLoop();
    const peer = await startPeer(join(dir, 'peer.sock'));
    onCleanup(() => void peer.close());
    await loop.runUntilComplete(() =>
      cancelAtEachStep(
        loop,
        () => loop.createUnixConnection(() => new Protocol(), peer.path),
        ([transport]) => transport.abort(),
        () => peer.open() === 0,
      ),
    );
  });

  it('createServer (TCP): rejects with CancelledError, never a bind error, and closes its listening socket', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(() =>
      cancelAtEachStep(loop, () => loop.createServer(() => new Protocol(), '127.0.0.1', 0), (server) => server.close()),
    );
  });

  it('createServer on two hosts (127.0.0.1 and ::1)', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(() =>
      cancelAtEachStep(loop, () => loop.createServer(() => new Protocol(), ['127.0.0.1', '::1'], 0), (server) => server.close()),
    );
  });

  it('createUnixServer', async () => {
    const loop = newLoop();
    const path = join(dir, 'server.sock');
    await loop.runUntilComplete(() =>
      cancelAtEachStep(loop, () => loop.createUnixServer(() => new Protocol(), path), (server) => server.close()),
    );
  });
});

describe('a protocol factory that returns a non-protocol', () => {
  it('createConnection rejects naming the public call and closes the connected socket (20 calls)', async () => {
    const loop = newLoop();
    const peer = await startPeer();
    onCleanup(() => void peer.close());
    await loop.runUntilComplete(async () => {
      const fds = fdCount();
      for (let i = 0; i < 20; i++) {
        const error = await loop.createConnection(() => ({}) as Protocol, '127.0.0.1', peer.port).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(/^createConnection\(\): protocolFactory\(\) must return a protocol object \(with connectionMade\/dataReceived\/connectionLost, e.g. an instance of a Protocol subclass\), got /);
      }
      await waitFor(loop, () => fdCount() <= fds && peer.open() === 0, 10, 'sockets closed');
    });
  });

  it('createUnixConnection likewise', async () => {
    const loop = newLoop();
    const peer = await startPeer(join(dir, 'peer2.sock'));
    onCleanup(() => void peer.close());
    await loop.runUntilComplete(async () => {
      const fds = fdCount();
      for (let i = 0; i < 5; i++) {
        await expect(loop.createUnixConnection(() => null as unknown as Protocol, peer.path)).rejects.toThrow(
          /^createUnixConnection\(\): protocolFactory\(\) must return a protocol object .*got null$/,
        );
      }
      await waitFor(loop, () => fdCount() <= fds && peer.open() === 0, 10, 'sockets closed');
    });
  });

  it('an accepting server reports it through the exception handler and closes the accepted socket', async () => {
    const loop = newLoop();
    const reported: string[] = [];
    loop.setExceptionHandler((_l, context) => reported.push(`${context.message}: ${(context.exception as Error).message}`));
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => ({}) as Protocol, '127.0.0.1', 0);
      const port = server.sockets[0]!.getsockname()[1] as number;
      const fds = fdCount();
      const client = net.connect(port, '127.0.0.1');
      client.on('error', () => {});
      const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
      client.resume();
      await waitFor(loop, () => reported.length === 1, 10, 'accept error reported');
      await closed;
      await waitFor(loop, () => fdCount() <= fds, 10, 'accepted socket closed');
      server.close();
    });
    expect(reported[0]).toMatch(/^Error on transport creation for incoming connection: createServer\(\): protocolFactory\(\) must return a protocol object/);
  });
});
