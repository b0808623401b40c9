import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Protocol } from '@aioloop/core';
import { AF_UNIX } from '../src/index.js';
import { Collector, Echo, collecting, delay, newLoop, tempDir, waitFor } from './support.js';

describe('Unix stream sockets', () => {
  it('echoes between createUnixConnection and createUnixServer with Python-style names', async () => {
    const loop = newLoop();
    const sockPath = path.join(tempDir(), 'echo.sock');
    await loop.runUntilComplete(async () => {
      const { factory, made: serverSide } = collecting(loop);
      const server = await loop.createUnixServer(factory, sockPath);
      expect(server.sockets[0]!.family).toBe(AF_UNIX);
      expect(server.sockets[0]!.getsockname()).toBe(sockPath);
      const [t, p] = await loop.createUnixConnection(() => new Collector(loop), sockPath);
      expect(t.getExtraInfo('peername')).toBe(sockPath);
      expect(t.getExtraInfo('sockname')).toBe('');
      t.write(Buffer.from('over unix'));
      await waitFor(loop, () => serverSide.length === 1 && serverSide[0]!.received() >= 9);
      const st = serverSide[0]!.transport;
      expect(st.getExtraInfo('sockname')).toBe(sockPath);
      expect(st.getExtraInfo('peername')).toBe('');
      st.write(Buffer.from('back'));
      await waitFor(loop, () => p.received() >= 4);
      t.writeEof(); // half-close over a Unix socket: the server sees EOF and closes
      expect(await serverSide[0]!.lost).toBe(null);
      expect(await p.lost).toBe(null);
      server.close();
      await server.waitClosed();
    });
    expect(fs.existsSync(sockPath)).toBe(false); // cleanupSocket defaults to true
  });

  it('replaces a stale socket file left by a dead process', async () => {
    const loop = newLoop();
    const sockPath = path.join(tempDir(), 'stale.sock');
    // A process binds the path and exits without removing it.
    execFileSync('/usr/bin/python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(sockPath)})`]);
    expect(fs.lstatSync(sockPath).isSocket()).toBe(true);
    await loop.runUntilComplete(async () => {
      const server = await loop.createUnixServer(() => new Echo(), sockPath);
      const [t, p] = await loop.createUnixConnection(() => new Collector(loop), sockPath);
      t.write(Buffer.from('fresh'));
      await waitFor(loop, () => p.received() >= 5);
      t.close();
      await p.lost;
      server.close();
      await server.waitClosed();
    });
  });

  it('never deletes a path that is not a socket: EADDRINUSE and the file is intact', () => {
    const loop = newLoop();
    const file = path.join(tempDir(), 'precious.txt');
    fs.writeFileSync(file, 'keep me');
    let error: NodeJS.ErrnoException | undefined;
    try {
      loop.createUnixServer(() => new Protocol(), file);
    } catch (e) {
      error = e as NodeJS.ErrnoException;
    }
    expect(error?.code).toBe('EADDRINUSE');
    expect(error?.message).toBe(`Address '${file}' is already in use by a file that is not a socket (left untouched)`);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('replaces an existing socket file even while a server still listens on it, as asyncio does', async () => {
    // asyncio removes any existing socket file at the path (it cannot tell a live
    // server from a stale file); the first server keeps its connections.
    const loop = newLoop();
    const sockPath = path.join(tempDir(), 'twice.sock');
    await loop.runUntilComplete(async () => {
      const firstSide: Collector[] = [];
      const secondSide: Collector[] = [];
      const side = (list: Collector[]) => (): Collector => {
        const p = new Collector(loop);
        list.push(p);
        return p;
      };
      const first = await loop.createUnixServer(side(firstSide), sockPath);
      const second = await loop.createUnixServer(side(secondSide), sockPath);
      expect(fs.lstatSync(sockPath).isSocket()).toBe(true);
      const [t, p] = await loop.createUnixConnection(() => new Collector(loop), sockPath);
      t.write(Buffer.from('to second'));
      await waitFor(loop, () => secondSide.length === 1 && secondSide[0]!.received() >= 9);
      expect(secondSide[0]!.bytes().toString()).toBe('to second');
      expect(firstSide).toHaveLength(0); // the path now leads to the second server only
      t.close();
      await p.lost;
      second.close();
      first.close();
      await second.waitClosed();
      await first.waitClosed();
    });
  });

  it('works with a Linux abstract socket name (leading NUL), leaving no file', async () => {
    const loop = newLoop();
    const name = `\0aioloop-net-test-${process.pid}-${Date.now()}`;
    await loop.runUntilComplete(async () => {
      const server = await loop.createUnixServer(() => new Echo(), name);
      expect(server.sockets[0]!.getsockname()).toBe(name);
      const [t, p] = await loop.createUnixConnection(() => new Collector(loop), name);
      t.write(Buffer.from('abstract'));
      await waitFor(loop, () => p.received() >= 8);
      expect(p.bytes().toString()).toBe('abstract');
      // The kernel lists it as abstract ('@' + name; Node 20 pads it with NULs, shown as
      // more '@'), and no file of that name appeared.
      const listed = fs.readFileSync('/proc/net/unix', 'utf8').split('\n').filter((line) => line.includes(` @${name.slice(1)}`));
      expect(listed.length).toBeGreaterThanOrEqual(1);
      expect(fs.existsSync(name.slice(1))).toBe(false);
      expect(fs.existsSync(path.join(process.cwd(), name.slice(1)))).toBe(false);
      t.close();
      await p.lost;
      server.close();
      await server.waitClosed();
    });
  });

  it('keeps the socket file on close with cleanupSocket: false', async () => {
    const loop = newLoop();
    const sockPath = path.join(tempDir(), 'kept.sock');
    await loop.runUntilComplete(async () => {
      const server = await loop.createUnixServer(() => new Echo(), sockPath, { cleanupSocket: false });
      server.close();
      await server.waitClosed();
    });
    expect(fs.lstatSync(sockPath).isSocket()).toBe(true);
    // Nothing listens there any more: a connect is refused.
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const c = net.connect(sockPath);
      c.once('error', resolve);
    });
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('rejects createUnixConnection to a missing path with ENOENT, and bad arguments at once', async () => {
    const loop = newLoop();
    const missing = path.join(tempDir(), 'missing.sock');
    expect(() => loop.createUnixConnection(() => new Protocol(), '')).toThrow(/path must be a non-empty string/);
    expect(() => loop.createUnixServer(() => new Protocol(), 7 as never)).toThrow(/path must be/);
    expect(() => loop.createUnixServer(() => new Protocol(), missing, { cleanupSocket: 'yes' as never })).toThrow(/cleanupSocket/);
    await loop.runUntilComplete(async () => {
      const error = await loop.createUnixConnection(() => new Protocol(), missing).then(
        () => null,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(error?.code).toBe('ENOENT');
    });
  });

  it('startServing: false holds Unix connections until startServing()', async () => {
    const loop = newLoop();
    const sockPath = path.join(tempDir(), 'later.sock');
    await loop.runUntilComplete(async () => {
      let calls = 0;
      const server = await loop.createUnixServer(() => {
        calls++;
        return new Echo();
      }, sockPath, { startServing: false, backlog: 10 });
      const [t, p] = await loop.createUnixConnection(() => new Collector(loop), sockPath);
      t.write(Buffer.from('wait'));
      await delay(loop, 0.05);
      expect(calls).toBe(0);
      expect(p.received()).toBe(0);
      await server.startServing();
      await waitFor(loop, () => p.received() >= 4);
      expect(calls).toBe(1);
      t.close();
      await p.lost;
      server.close();
      await server.waitClosed();
    });
  });
});
