/**
 * Handing native sockets to Node's `net`, which then does the I/O of
 * transports and servers:
 * - `sock=` arguments given a {@link Socket}: asyncio's transport owns the
 *   socket it is given. Node gets a duplicate of the fd (it sets it
 *   non-blocking and closes it when done); our Socket is closed when Node's
 *   handle closes, so closing it again afterwards is harmless.
 * - sockets Node 20 cannot make: SO_REUSEPORT listeners, and Linux abstract
 *   Unix names of exactly the given length (Node pads them to the full
 *   `sun_path`, so a Python peer cannot reach them).
 */
import net from 'node:net';
import type { EventLoop, Future } from '@aioloop/core';
import { AF_INET6, AF_UNIX, SOCK_STREAM } from '../dns.js';
import { nativeSocketsAvailable } from './binding.js';
import { systemError } from './errors.js';
import { sockConnect } from './sock-methods.js';
import { IPPROTO_IPV6, IPV6_V6ONLY, SO_REUSEADDR, SO_REUSEPORT, SOL_SOCKET, Socket, SOCK_NONBLOCK, type SocketAddress } from './socket.js';

function dupFor(sock: Socket, method: string): number {
  if (sock.fileno() < 0) throw new TypeError(`${method}(): sock is closed`);
  if (sock.type !== SOCK_STREAM) throw new TypeError(`${method}(): A Stream Socket was expected, got ${String(sock)}`);
  const fd = sock._b.dup(sock.fileno());
  if (fd < 0) throw systemError(fd, 'dup');
  return fd;
}

/** A Node socket for a connected stream {@link Socket} (Python: the transport owns the socket). */
export function nodeSocketFor(sock: Socket, method: string, onread?: net.OnReadOpts | null): net.Socket {
  if (sock.type !== SOCK_STREAM) throw new TypeError(`${method}(): A Stream Socket was expected, got ${String(sock)}`);
  if (sock.fileno() >= 0) {
    const peer = sock._b.getpeername(sock.fileno());
    if (typeof peer === 'number') throw new TypeError(`${method}(): sock is not connected (${systemError(peer, 'getpeername').code})`);
  }
  const fd = dupFor(sock, method);
  let socket: net.Socket;
  try {
    socket = new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true, ...(onread ? { onread } : {}) });
  } catch (error) {
    sock._b.close(fd);
    throw error;
  }
  socket.once('close', () => sock.close());
  return socket;
}

/** Listen options for a Node server taking over a bound stream {@link Socket}; the Socket closes with the server. */
export function listenOptionsFor(sock: Socket, server: net.Server, method: string): net.ListenOptions {
  const fd = dupFor(sock, method);
  server.once('close', () => sock.close());
  return { fd } as net.ListenOptions;
}

/**
 * A listening TCP socket with SO_REUSEPORT (set before bind, as Node 22.12's
 * `reusePort` does), for Node versions whose `net` cannot; its fd is Node's
 * to own.
 */
export function reusePortListener(family: number, address: SocketAddress, backlog: number): number {
  const sock = new Socket(family, SOCK_STREAM, 0);
  try {
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    if (family === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    sock.bind(address);
    sock.listen(backlog);
  } catch (error) {
    sock.close();
    throw error;
  }
  return sock.detach();
}

/** Whether `path` is a Linux abstract name that should go through a native socket (Node would pad it). */
export function useNativeAbstract(path: string): boolean {
  return path.startsWith('\0') && process.platform === 'linux' && nativeSocketsAvailable();
}

/** A listening abstract-name Unix socket of exactly `path`'s length; its fd is Node's to own. */
export function abstractListener(path: string, backlog: number): number {
  const sock = new Socket(AF_UNIX, SOCK_STREAM, 0);
  try {
    sock.bind(path);
    sock.listen(backlog);
  } catch (error) {
    sock.close();
    throw error;
  }
  return sock.detach();
}

/** Connects a non-blocking Unix socket to the abstract name `path` (exact length) without blocking. */
export function connectAbstract(loop: EventLoop, path: string): { sock: Socket; connected: Future<void> } {
  const sock = new Socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  let connected: Future<void>;
  try {
    connected = sockConnect(loop, sock, path);
  } catch (error) {
    sock.close();
    throw error;
  }
  return { sock, connected };
}
