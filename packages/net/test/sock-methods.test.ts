import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { SendfileNotAvailableError } from '@aioloop/core';
import { AF_INET, SHUT_WR, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, socket, socketpair, type Server, type Socket } from '../src/index.js';
import { _watching } from '../src/native/fd-watchers.js';
import { checkFdLeaks, Echo, newLoop, onCleanup, startPeer } from './support.js';

const PEER = fileURLToPath(new URL('./peers/sock_peer.py', import.meta.url));

beforeEach(checkFdLeaks);

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function nonblocking(family = AF_INET, type = SOCK_STREAM): Socket {
  const s = socket(family, type | SOCK_NONBLOCK);
  onCleanup(() => s.close());
  return s;
}

/** A non-blocking socketpair, closed after the test. */
function nonblockingPair(): [Socket, Socket] {
  const pair = socketpair(undefined, SOCK_STREAM | SOCK_NONBLOCK);
  onCleanup(() => pair.forEach((s) => s.close()));
  return pair;
}

function startPython(args: string[]): { nextLine: () => Promise<string>; exited: Promise<number | null> } {
  return startPeer(PEER, args);
}

async function recvExactly(loop: ReturnType<typeof newLoop>, sock: Socket, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  while (n < size) {
    const chunk = await loop.sockRecv(sock, 65536);
    if (chunk.length === 0) break;
    chunks.push(chunk);
    n += chunk.length;
  }
  return Buffer.concat(chunks);
}

describe('sock* methods against our own servers', () => {
  it('sockConnect, sockSendall 2 MB and sockRecv it back from an Echo server', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server: Server = await loop.createServer(() => new Echo(), '127.0.0.1', 0);
      onCleanup(() => server.close());
      const [, port] = server.sockets[0]!.getsockname() as [string, number];
      const sock = nonblocking();
      await loop.sockConnect(sock, ['127.0.0.1', port]);
      const data = pattern(2 * 1024 * 1024);
      const sending = loop.sockSendall(sock, data);
      const back = await recvExactly(loop, sock, data.length);
      await sending;
      expect(sha256(back)).toBe(sha256(data));
      sock.close();
      server.close();
      await server.waitClosed();
    });
  });

  it('sockConnect resolves host names first (localhost) and rejects a refused port with ECONNREFUSED', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const probe = socket();
      probe.bind(['127.0.0.1', 0]);
      const [, port] = probe.getsockname() as [string, number];
      probe.close();
      const sock = nonblocking();
      await expect(loop.sockConnect(sock, ['127.0.0.1', port])).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
      const listener = nonblocking();
      listener.bind(['127.0.0.1', 0]);
      listener.listen();
      const other = nonblocking();
      await loop.sockConnect(other, ['localhost', (listener.getsockname() as [string, number])[1]]);
      expect(other.getpeername()).toEqual(listener.getsockname());
    });
  });

  it('sockAccept serves 200 concurrent connects', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const listener = nonblocking();
      listener.bind(['127.0.0.1', 0]);
      listener.listen(512);
      const [, port] = listener.getsockname() as [string, number];
      const count = 200;
      const serve = loop.createTask(async () => {
        const handlers = [];
        for (let i = 0; i < count; i++) {
          const [conn] = await loop.sockAccept(listener);
          expect(conn.getblocking()).toBe(false);
          handlers.push(
            loop.createTask(async () => {
              const id = await loop.sockRecv(conn, 16);
              await loop.sockSendall(conn, Buffer.concat([Buffer.from('ok:'), id]));
              conn.close();
            }),
          );
        }
        for (const h of handlers) await h;
      });
      const clients = Array.from({ length: count }, (_, i) =>
        loop.createTask(async () => {
          const c = nonblocking();
          await loop.sockConnect(c, ['127.0.0.1', port]);
          await loop.sockSendall(c, Buffer.from(String(i)));
          const reply = (await recvExactly(loop, c, 64)).toString();
          c.close();
          return reply;
        }),
      );
      const replies: string[] = [];
      for (const c of clients) replies.push(await c);
      await serve;
      expect(replies).toEqual(Array.from({ length: count }, (_, i) => `ok:${i}`));
    });
  });

  it('sockRecvInto, and UDP sockSendto / sockRecvfrom / sockRecvfromInto', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [a, b] = nonblockingPair();
      const buf = Buffer.alloc(8);
      const reading = loop.sockRecvInto(b, buf);
      await loop.sockSendall(a, Buffer.from('12345'));
      expect(await reading).toBe(5);
      expect(buf.subarray(0, 5).toString()).toBe('12345');

      const u1 = nonblocking(AF_INET, SOCK_DGRAM);
      const u2 = nonblocking(AF_INET, SOCK_DGRAM);
      u1.bind(['127.0.0.1', 0]);
      u2.bind(['127.0.0.1', 0]);
      const waiting = loop.sockRecvfrom(u1, 100);
      expect(await loop.sockSendto(u2, Buffer.from('dgram'), u1.getsockname())).toBe(5);
      expect(await waiting).toEqual([Buffer.from('dgram'), u2.getsockname()]);
      const into = Buffer.alloc(100);
      const waitingInto = loop.sockRecvfromInto(u1, into, 3);
      await loop.sockSendto(u2, Buffer.from('abcdef'), u1.getsockname());
      expect(await waitingInto).toEqual([3, u2.getsockname()]);
    });
  });

  it('cancelling the awaiting task removes the watcher; a socket closed while waiting rejects with EBADF', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [a, b] = nonblockingPair();
      const task = loop.createTask(() => loop.sockRecv(a, 10));
      await new Promise((r) => setTimeout(r, 5));
      expect(_watching(loop, a.fileno())).toEqual({ reader: true, writer: false });
      task.cancel();
      await expect(task).rejects.toThrow();
      expect(task.cancelled()).toBe(true);
      expect(_watching(loop, a.fileno())?.reader ?? false).toBe(false);
      const pending = loop.sockRecv(b, 10);
      b.close();
      await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
    });
  });

  it('rejects a socket in blocking mode with a clear error, and non-Sockets', () => {
    const loop = newLoop();
    const s = socket();
    onCleanup(() => s.close());
    expect(() => loop.sockRecv(s, 10)).toThrow(/sockRecv\(\): the socket must be non-blocking: call sock.setblocking\(false\)/);
    expect(() => loop.sockSendall({} as never, Buffer.alloc(1))).toThrow(/sockSendall\(\): sock must be a Socket/);
  });
});

describe('sockSendfile', () => {
  function tempFile(data: Buffer): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioloop-sendfile-'));
    onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'data.bin');
    fs.writeFileSync(file, data);
    return file;
  }

  it('sends a regular file with sendfile(2), honours offset/count and leaves the file position after the sent bytes', async () => {
    const loop = newLoop();
    const data = pattern(3 * 1024 * 1024);
    const fd = fs.openSync(tempFile(data), 'r');
    onCleanup(() => fs.closeSync(fd));
    await loop.runUntilComplete(async () => {
      const [a, b] = nonblockingPair();
      const reading = recvExactly(loop, b, data.length - 100);
      expect(await loop.sockSendfile(a, fd, 100)).toBe(data.length - 100);
      expect((await reading).equals(data.subarray(100))).toBe(true);
      const next = Buffer.alloc(1);
      expect(fs.readSync(fd, next, 0, 1, null)).toBe(0); // position is at the end
      const part = recvExactly(loop, b, 1000);
      expect(await loop.sockSendfile(a, fd, 10, 1000)).toBe(1000);
      expect((await part).equals(data.subarray(10, 1010))).toBe(true);
    });
  });

  it('falls back to read-and-send for a pipe, or raises SendfileNotAvailableError without fallback', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [a, b] = socketpair(undefined, SOCK_STREAM | SOCK_NONBLOCK);
      const [pr, pw] = socketpair(); // a socket is not a regular file either
      onCleanup(() => {
        for (const s of [a, b, pr, pw]) s.close();
      });
      await expect(loop.sockSendfile(a, pr, 0, null, { fallback: false })).rejects.toBeInstanceOf(SendfileNotAvailableError);
      pw.sendall(Buffer.from('through the fallback'));
      pw.shutdown(SHUT_WR);
      const reading = recvExactly(loop, b, 20);
      expect(await loop.sockSendfile(a, pr)).toBe(20);
      expect((await reading).toString()).toBe('through the fallback');
    });
  });
});

describe('sock* with a Python asyncio peer', () => {
  it('our sockAccept/sockRecv/sockSendall echo serves a Python sock_connect/sock_sendall/sock_recv client', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const listener = nonblocking();
      listener.bind(['127.0.0.1', 0]);
      listener.listen();
      const [, port] = listener.getsockname() as [string, number];
      const size = 1_000_000;
      const peer = startPython(['sock-client', String(port), String(size)]);
      const [conn] = await loop.sockAccept(listener);
      onCleanup(() => conn.close());
      for (;;) {
        const chunk = await loop.sockRecv(conn, 65536);
        if (chunk.length === 0) break;
        await loop.sockSendall(conn, chunk);
      }
      expect(await peer.nextLine()).toBe('connected');
      expect(await peer.nextLine()).toBe(sha256(pattern(size)));
      expect(await peer.exited).toBe(0);
    });
  });

  it('our sockConnect/sockSendall/sockRecv client talks to a Python asyncio echo server', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const peer = startPython(['echo-server']);
      const port = Number(await peer.nextLine());
      const sock = nonblocking();
      await loop.sockConnect(sock, ['127.0.0.1', port]);
      const data = pattern(500_000);
      const sending = loop.sockSendall(sock, data);
      const back = await recvExactly(loop, sock, data.length);
      await sending;
      expect(sha256(back)).toBe(sha256(data));
    });
  });
});
