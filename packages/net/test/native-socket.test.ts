import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventLoop } from '@aioloop/core';
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  BlockingIOError,
  SHUT_WR,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_TYPE,
  Socket,
  socket,
  socketpair,
} from '../src/index.js';

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

let fdsBefore = 0;
beforeEach(() => {
  fdsBefore = openFds();
});
afterEach(() => {
  expect(openFds()).toBe(fdsBefore);
});

describe('Socket (Python socket module shape)', () => {
  it('socketpair sends and receives; close twice is harmless; fileno is -1 after close', () => {
    const [a, b] = socketpair();
    expect(a.family).toBe(AF_UNIX);
    expect(a.type).toBe(SOCK_STREAM);
    expect(a.getblocking()).toBe(true);
    expect(a.send(Buffer.from('hello'))).toBe(5);
    expect(b.recv(100).toString()).toBe('hello');
    a.shutdown(SHUT_WR);
    expect(b.recv(100).length).toBe(0);
    a.close();
    a.close();
    expect(a.fileno()).toBe(-1);
    b[Symbol.dispose]();
    expect(b.fileno()).toBe(-1);
  });

  it('a non-blocking recv that would block throws BlockingIOError with code EAGAIN', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
    try {
      expect(a.getblocking()).toBe(false);
      let error: unknown;
      try {
        a.recv(10);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BlockingIOError);
      expect(error).toMatchObject({ code: 'EAGAIN', errno: -11, syscall: 'recv' });
    } finally {
      a.close();
      b.close();
    }
  });

  it('TCP over 127.0.0.1: bind, listen, connect, accept, getsockname/getpeername, options', () => {
    using server = socket(AF_INET, SOCK_STREAM);
    server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    expect(server.getsockopt(SOL_SOCKET, SO_REUSEADDR)).toBe(1);
    expect(server.getsockopt(SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
    server.bind(['127.0.0.1', 0]);
    server.listen();
    const [host, port] = server.getsockname() as [string, number];
    expect(host).toBe('127.0.0.1');
    using client = socket();
    client.connect(['127.0.0.1', port]);
    const [conn, addr] = server.accept();
    using _conn = conn;
    expect(addr).toEqual(client.getsockname());
    expect(conn.getpeername()).toEqual(client.getsockname());
    client.sendall(Buffer.from('ping'));
    expect(conn.recv(4).toString()).toBe('ping');
    expect(String(conn)).toMatch(/^<Socket fd=\d+, family=2, type=1, proto=6, laddr=/);
  });

  it('connect to a closed port: ECONNREFUSED as a Node system error', () => {
    using probe = socket();
    probe.bind(['127.0.0.1', 0]);
    const [, port] = probe.getsockname() as [string, number];
    probe.close();
    using s = socket();
    expect(() => s.connect(['127.0.0.1', port])).toThrow(expect.objectContaining({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect' }) as Error);
  });

  it('IPv6 addresses have four fields; UDP recvfrom/sendto', () => {
    using a = socket(AF_INET6, SOCK_DGRAM);
    a.bind(['::1', 0]);
    const addr = a.getsockname();
    expect(addr).toEqual(['::1', expect.any(Number), 0, 0]);
    using b = socket(AF_INET6, SOCK_DGRAM);
    b.bind(['::1', 0]);
    expect(b.sendto(Buffer.from('dgram'), addr)).toBe(5);
    const [data, from] = a.recvfrom(100);
    expect(data.toString()).toBe('dgram');
    expect(from).toEqual(b.getsockname());
    const into = Buffer.alloc(10);
    b.sendto(Buffer.from('xy'), 0, addr);
    expect(a.recvfromInto(into)).toEqual([2, b.getsockname()]);
  });

  it('abstract AF_UNIX names keep their exact length', () => {
    const name = `\0aioloop-test-${process.pid}`;
    using s = socket(AF_UNIX, SOCK_STREAM);
    s.bind(name);
    expect(s.getsockname()).toBe(name);
  });

  it('Socket.fromFd duplicates: closing one leaves the other open', () => {
    const [a, b] = socketpair();
    const c = Socket.fromFd(a.fileno());
    expect(c.fileno()).not.toBe(a.fileno());
    expect(c.family).toBe(AF_UNIX);
    a.close();
    c.send(Buffer.from('x'));
    expect(b.recv(1).toString()).toBe('x');
    c.close();
    b.close();
  });

  it('bad arguments name the method and what is accepted', () => {
    using s = socket();
    expect(() => s.bind('nope' as never)).toThrow(/Socket\.bind\(\): an AF_INET address is \[host, port\]/);
    expect(() => s.bind(['127.0.0.1', 70000])).toThrow(RangeError);
    expect(() => s.recv(-1)).toThrow(/Socket\.recv\(\): bufsize must be >= 0/);
  });
});

describe('loop.addReader / addWriter', () => {
  it('watches a socketpair fd, replaces, removes, and returns whether one was removed', async () => {
    const loop = new EventLoop();
    const [a, b] = socketpair();
    try {
      const got: string[] = [];
      await loop.runUntilComplete(async () => {
        const done = loop.createFuture<void>();
        loop.addReader(b.fileno(), () => got.push('replaced'));
        loop.addReader(b.fileno(), () => {
          got.push(b.recv(100).toString());
          expect(loop.removeReader(b.fileno())).toBe(true);
          done.setResult();
        });
        a.send(Buffer.from('abc'));
        await done;
      });
      expect(got).toEqual(['abc']);
      expect(loop.removeReader(b.fileno())).toBe(false);
      expect(loop.removeWriter(b.fileno())).toBe(false);
    } finally {
      a.close();
      b.close();
      loop.close();
    }
  });

  it('a writer fires on a writable socket; reader and writer combine on one fd', async () => {
    const loop = new EventLoop();
    const [a, b] = socketpair();
    try {
      await loop.runUntilComplete(async () => {
        const order: string[] = [];
        const both = loop.createFuture<void>();
        const check = (): void => {
          if (order.includes('r') && order.includes('w')) both.done() || both.setResult();
        };
        loop.addWriter(a, () => {
          order.push('w');
          loop.removeWriter(a);
          check();
        });
        loop.addReader(a, () => {
          order.push('r');
          a.recv(10);
          loop.removeReader(a);
          check();
        });
        b.send(Buffer.from('z'));
        await both;
      });
    } finally {
      a.close();
      b.close();
      loop.close();
    }
  });

  it('errors for a closed or invalid fd', () => {
    const loop = new EventLoop();
    const [a, b] = socketpair();
    const fd = a.fileno();
    a.close();
    b.close();
    try {
      expect(() => loop.addReader(fd, () => {})).toThrow(expect.objectContaining({ code: 'EBADF' }) as Error);
      expect(() => loop.addReader(-1, () => {})).toThrow(RangeError);
      expect(() => loop.addReader('3' as never, () => {})).toThrow(TypeError);
      expect(() => loop.addReader(a, () => {})).toThrow(/the socket is closed/);
    } finally {
      loop.close();
    }
  });

  it('an fd closed behind the loop\'s back does not crash the process, and its reused number is watched afresh', async () => {
    const loop = new EventLoop();
    const [a, b] = socketpair();
    const rawFd = Socket.fromFd(a.fileno()).detach(); // a plain fd, not a Socket's
    try {
      await loop.runUntilComplete(async () => {
        loop.addReader(rawFd, () => {});
        fs.closeSync(rawFd); // behind the loop's back, before libuv registered the watcher
        b.send(Buffer.from('x'));
        await new Promise((r) => setTimeout(r, 20));
        // the number is reused by another file: addReader watches the new one
        const [c, d] = socketpair();
        const reused = c.fileno();
        try {
          expect(reused).toBe(rawFd); // the lowest free number
          const fired = loop.createFuture<void>();
          loop.addReader(reused, () => fired.done() || fired.setResult());
          d.send(Buffer.from('y'));
          await fired;
          expect(loop.removeReader(reused)).toBe(true);
        } finally {
          c.close();
          d.close();
        }
      });
    } finally {
      a.close();
      b.close();
      loop.close();
    }
  });

  it('watchers do not keep the process alive and are closed with the loop', async () => {
    const loop = new EventLoop();
    const [a, b] = socketpair();
    loop.addReader(a, () => {});
    loop.addWriter(b, () => {});
    loop.close();
    expect(loop.removeReader(a)).toBe(false);
    a.close();
    b.close();
  });
});
