/**
 * asyncio's `loop.sock_*` methods (selector_events.py) on non-blocking
 * {@link Socket}s: try the call; on EAGAIN wait for readiness on the fd and
 * retry; never block the thread. Each returns a Future; cancelling it (or the
 * task awaiting it) removes the wait. A socket in blocking mode is rejected:
 * a blocked call would freeze every loop of the thread (asyncio checks this
 * only in debug mode).
 */
import fs from 'node:fs';
import net from 'node:net';
import { SendfileNotAvailableError, type EventLoop, type Future } from '@aioloop/core';
import { describeValue } from '@aioloop/core';
import { checkClosed } from '@aioloop/core/internal';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../dns.js';
import { systemError } from './errors.js';
import { addWaiter, READ, removeWaiter, WRITE, type DirectWaiter } from './fd-watchers.js';
import { checkAddress, checkBytes, EAGAIN, Socket, SO_ERROR, SOL_SOCKET, type SocketAddress } from './socket.js';

const EINPROGRESS = -115;
const EINTR = -4;

function checkSocket(sock: unknown, method: string): Socket {
  if (!(sock instanceof Socket)) throw new TypeError(`${method}(): sock must be a Socket from @aioloop/net (socket(), socketpair(), Socket.fromFd()), got ${describeValue(sock)}`);
  if (sock.fileno() < 0) throw systemError(-9, method);
  if (sock.getblocking()) {
    throw new RangeError(`${method}(): the socket must be non-blocking: call sock.setblocking(false) first (a blocking call would freeze the event loop)`);
  }
  return sock;
}

function checkNbytes(value: unknown, method: string, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TypeError(`${method}(): ${name} must be a non-negative integer, got ${describeValue(value)}`);
  return value;
}

/**
 * One pending sock* call: `attempt()` returns true when the future is settled
 * (or should stop); false on EAGAIN, and the wait goes on.
 */
class Wait implements DirectWaiter {
  constructor(
    readonly loop: EventLoop,
    readonly fd: number,
    readonly event: number,
    readonly future: Future<unknown>,
    readonly attempt: () => boolean,
  ) {}

  run(): void {
    if (this.future.done()) return;
    try {
      if (!this.attempt()) return;
    } catch (error) {
      if (!this.future.done()) this.future.setException(error);
    }
    removeWaiter(this.loop, this.fd, this.event, this);
  }
}

/** Waits for `event` on `sock`, retrying `attempt` until it settles `future`. */
function waitFor<T>(loop: EventLoop, sock: Socket, event: number, future: Future<T>, attempt: () => boolean, method: string): Future<T> {
  const fd = sock.fileno();
  const wait = new Wait(loop, fd, event, future as Future<unknown>, attempt);
  addWaiter(loop, fd, event, wait, method);
  future.addDoneCallback(() => removeWaiter(loop, fd, event, wait));
  return future;
}

/** Runs `attempt` now; if it could not finish, waits for `event` and retries. */
function run<T>(loop: EventLoop, sock: Socket, event: number, method: string, attempt: (future: Future<T>) => boolean): Future<T> {
  checkClosed(loop);
  const future = loop.createFuture<T>();
  let done: boolean;
  try {
    done = attempt(future);
  } catch (error) {
    future.setException(error);
    return future;
  }
  if (done) return future;
  try {
    return waitFor(loop, sock, event, future, () => attempt(future), method);
  } catch (error) {
    // The fd could not be watched (closed meanwhile): the call fails, it does not throw.
    future.setException(error);
    return future;
  }
}

/** asyncio's `loop.sock_recv(sock, nbytes)`: up to `nbytes` bytes (empty at end of stream). */
export function sockRecv(loop: EventLoop, sock: Socket, nbytes: number): Future<Buffer> {
  checkSocket(sock, 'sockRecv');
  checkNbytes(nbytes, 'sockRecv', 'nbytes');
  return run<Buffer>(loop, sock, READ, 'sockRecv', (future) => {
    const r = sock._recv(nbytes, 0);
    if (r === EAGAIN || r === EINTR) return false;
    if (typeof r === 'number') throw sock._error(r, 'recv');
    future.setResult(r);
    return true;
  });
}

/** asyncio's `loop.sock_recv_into(sock, buf)`: the count read into `buf`. */
export function sockRecvInto(loop: EventLoop, sock: Socket, buf: ArrayBufferView | ArrayBuffer): Future<number> {
  checkSocket(sock, 'sockRecvInto');
  const view = checkBytes(buf, 'sockRecvInto', 'buf');
  return run<number>(loop, sock, READ, 'sockRecvInto', (future) => {
    const n = sock._b.recv(sock.fileno(), view, 0);
    if (n === EAGAIN || n === EINTR) return false;
    if (n < 0) throw sock._error(n, 'recv');
    future.setResult(n);
    return true;
  });
}

/** asyncio's `loop.sock_recvfrom(sock, bufsize)`: `[data, address]`. */
export function sockRecvfrom(loop: EventLoop, sock: Socket, bufsize: number): Future<[Buffer, SocketAddress | null]> {
  checkSocket(sock, 'sockRecvfrom');
  checkNbytes(bufsize, 'sockRecvfrom', 'bufsize');
  return run<[Buffer, SocketAddress | null]>(loop, sock, READ, 'sockRecvfrom', (future) => {
    const buf = Buffer.allocUnsafe(bufsize);
    const r = sock._b.recvfrom(sock.fileno(), buf, 0);
    if (r === EAGAIN || r === EINTR) return false;
    if (typeof r === 'number') throw sock._error(r, 'recvfrom');
    future.setResult([r[0] === bufsize ? buf : Buffer.from(buf.subarray(0, r[0])), r[1] as SocketAddress | null]);
    return true;
  });
}

/** asyncio's `loop.sock_recvfrom_into(sock, buf, nbytes = 0)`: `[count, address]`. */
export function sockRecvfromInto(loop: EventLoop, sock: Socket, buf: ArrayBufferView | ArrayBuffer, nbytes = 0): Future<[number, SocketAddress | null]> {
  checkSocket(sock, 'sockRecvfromInto');
  let view = checkBytes(buf, 'sockRecvfromInto', 'buf');
  checkNbytes(nbytes, 'sockRecvfromInto', 'nbytes');
  if (nbytes > view.length) throw new RangeError(`sockRecvfromInto(): nbytes (${nbytes}) is larger than the buffer (${view.length} bytes)`);
  if (nbytes > 0) view = view.subarray(0, nbytes);
  return run<[number, SocketAddress | null]>(loop, sock, READ, 'sockRecvfromInto', (future) => {
    const r = sock._b.recvfrom(sock.fileno(), view, 0);
    if (r === EAGAIN || r === EINTR) return false;
    if (typeof r === 'number') throw sock._error(r, 'recvfrom');
    future.setResult(r as [number, SocketAddress | null]);
    return true;
  });
}

/** asyncio's `loop.sock_sendall(sock, data)`: resolves once every byte is sent. */
export function sockSendall(loop: EventLoop, sock: Socket, data: ArrayBufferView | ArrayBuffer): Future<void> {
  checkSocket(sock, 'sockSendall');
  let rest = checkBytes(data, 'sockSendall', 'data');
  return run<void>(loop, sock, WRITE, 'sockSendall', (future) => {
    while (rest.length > 0) {
      const n = sock._b.send(sock.fileno(), rest, 0);
      if (n === EAGAIN || n === EINTR) return false;
      if (n < 0) throw sock._error(n, 'send');
      rest = rest.subarray(n);
    }
    future.setResult(undefined);
    return true;
  });
}

/** asyncio's `loop.sock_sendto(sock, data, address)`: the count sent. */
export function sockSendto(loop: EventLoop, sock: Socket, data: ArrayBufferView | ArrayBuffer, address: SocketAddress): Future<number> {
  checkSocket(sock, 'sockSendto');
  const bytes = checkBytes(data, 'sockSendto', 'data');
  const addr = checkAddress(sock.family, address, 'sockSendto');
  return run<number>(loop, sock, WRITE, 'sockSendto', (future) => {
    const n = sock._b.sendto(sock.fileno(), bytes, 0, sock.family, addr);
    if (n === EAGAIN || n === EINTR) return false;
    if (n < 0) throw sock._error(n, 'sendto', address);
    future.setResult(n);
    return true;
  });
}

/**
 * asyncio's `loop.sock_connect(sock, address)`. A host name is resolved
 * first with `loop.getaddrinfo` (asyncio's `_ensure_resolved`).
 */
export function sockConnect(loop: EventLoop, sock: Socket, address: SocketAddress): Future<void> {
  checkSocket(sock, 'sockConnect');
  checkAddress(sock.family, address, 'sockConnect');
  checkClosed(loop);
  if ((sock.family === AF_INET || sock.family === AF_INET6) && Array.isArray(address) && address[0] !== '' && net.isIP(address[0]) === 0) {
    const future = loop.createFuture<void>();
    const resolving = loop.getaddrinfo(address[0], address[1], { family: sock.family, type: sock.type, proto: sock.proto });
    future.addDoneCallback(() => {
      if (future.cancelled()) resolving.cancel();
    });
    resolving.addDoneCallback(() => {
      if (future.done()) return;
      if (resolving.cancelled()) return void future.cancel();
      const error = resolving.exception();
      if (error !== null) return void future.setException(error);
      const info = resolving.result()[0];
      if (info === undefined) return void future.setException(systemError(-99, 'connect', address));
      const resolved = (sock.family === AF_INET6 ? [info[4][0], info[4][1], ...address.slice(2)] : [info[4][0], info[4][1]]) as SocketAddress;
      const inner = connectResolved(loop, sock, resolved);
      future.addDoneCallback(() => {
        if (future.cancelled()) inner.cancel();
      });
      inner.addDoneCallback(() => {
        if (future.done()) return;
        if (inner.cancelled()) future.cancel();
        else if (inner.exception() !== null) future.setException(inner.exception());
        else future.setResult(undefined);
      });
    });
    return future;
  }
  return connectResolved(loop, sock, address);
}

function connectResolved(loop: EventLoop, sock: Socket, address: SocketAddress): Future<void> {
  let started = false;
  return run<void>(loop, sock, WRITE, 'sockConnect', (future) => {
    if (!started) {
      started = true;
      const rc = sock._connect(address, 'sockConnect');
      if (rc === EINPROGRESS || rc === EINTR || rc === EAGAIN) return false;
      if (rc < 0) throw sock._error(rc, 'connect', address);
      future.setResult(undefined);
      return true;
    }
    // Writable: the connection finished, one way or the other (asyncio's _sock_connect_cb).
    const err = sock.getsockopt(SOL_SOCKET, SO_ERROR);
    if (err === 11 || err === 4) return false;
    if (err !== 0) throw sock._error(-err, 'connect', address);
    future.setResult(undefined);
    return true;
  });
}

/** asyncio's `loop.sock_accept(sock)`: `[conn, address]`; `conn` is non-blocking, as asyncio sets it. */
export function sockAccept(loop: EventLoop, sock: Socket): Future<[Socket, SocketAddress]> {
  checkSocket(sock, 'sockAccept');
  return run<[Socket, SocketAddress]>(loop, sock, READ, 'sockAccept', (future) => {
    const r = sock._accept();
    if (r === EAGAIN || r === EINTR) return false;
    if (typeof r === 'number') throw sock._error(r, 'accept');
    r[0].setblocking(false);
    future.setResult(r);
    return true;
  });
}

/** A file for {@link sockSendfile}: an fd, a `fs.promises.FileHandle`, or an object with `fileno()`. */
export type SendfileFile = number | { fd: number } | { fileno(): number };

function fileFd(file: unknown): number | null {
  if (typeof file === 'number' && Number.isInteger(file) && file >= 0) return file;
  if (typeof file === 'object' && file !== null) {
    const f = file as { fd?: unknown; fileno?: unknown };
    if (typeof f.fileno === 'function') return (f.fileno as () => number)();
    if (typeof f.fd === 'number') return f.fd;
  }
  return null;
}

/** Read size of the fallback (asyncio's SENDFILE_FALLBACK_READBUFFER_SIZE). */
const FALLBACK_BLOCK = 256 * 1024;

/**
 * asyncio's `loop.sock_sendfile(sock, file, offset = 0, count = null, { fallback = true })`:
 * sends the file with sendfile(2) (zero copy) and resolves to the byte count.
 * When sendfile cannot be used (not a regular file, or the call fails before
 * any byte was sent) it raises {@link SendfileNotAvailableError}, or with
 * `fallback` reads the file and sends it with `sockSendall`. Afterwards the
 * file's position is `offset + sent`, as asyncio leaves it.
 */
export function sockSendfile(
  loop: EventLoop,
  sock: Socket,
  file: SendfileFile,
  offset = 0,
  count: number | null = null,
  options: { fallback?: boolean } = {},
): Future<number> {
  checkSocket(sock, 'sockSendfile');
  if (sock.type !== SOCK_STREAM) throw new RangeError('sockSendfile(): only SOCK_STREAM type sockets are supported');
  if (count !== null && (typeof count !== 'number' || !Number.isInteger(count) || count <= 0)) {
    throw new TypeError(`sockSendfile(): count must be a positive integer or null, got ${describeValue(count)}`);
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw new TypeError(`sockSendfile(): offset must be a non-negative integer, got ${describeValue(offset)}`);
  }
  const fallback = options.fallback ?? true;
  if (typeof fallback !== 'boolean') throw new TypeError(`sockSendfile(): fallback must be a boolean, got ${describeValue(fallback)}`);
  const fd = fileFd(file);
  if (fd === null) throw new TypeError(`sockSendfile(): file must be a file descriptor, a FileHandle or an object with fileno(), got ${describeValue(file)}`);
  checkClosed(loop);
  const result = loop.createFuture<number>();
  const native = sendfileNative(loop, sock, fd, offset, count);
  result.addDoneCallback(() => {
    if (result.cancelled()) native.cancel();
  });
  native.addDoneCallback(() => {
    if (result.done()) return;
    if (native.cancelled()) return void result.cancel();
    const error = native.exception();
    if (error === null) return void result.setResult(native.result());
    if (!(error instanceof SendfileNotAvailableError) || !fallback) return void result.setException(error);
    void sendfileFallback(loop, sock, fd, offset, count, result);
  });
  return result;
}

/** @internal sendfile(2) of `count` bytes (null: to the end) from `offset` over `sock` (non-blocking): the byte count; the file position ends at `offset + sent`. */
export function sendfileNative(loop: EventLoop, sock: Socket, fd: number, offset: number, count: number | null): Future<number> {
  const future = loop.createFuture<number>();
  let size: number;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch {
    future.setException(new SendfileNotAvailableError('not a regular file'));
    return future;
  }
  const blocksize = count ?? size;
  if (blocksize === 0) {
    future.setResult(0);
    return future;
  }
  let total = 0;
  const b = sock._b;
  const finish = (): void => {
    if (total > 0) b.lseek(fd, offset + total, 0);
  };
  future.addDoneCallback(finish);
  const attempt = (): boolean => {
    for (;;) {
      const want = count === null ? blocksize : Math.min(count - total, blocksize);
      if (want <= 0) {
        future.setResult(total);
        return true;
      }
      const n = b.sendfile(sock.fileno(), fd, offset + total, want);
      if (n === EAGAIN || n === EINTR) return false;
      if (n < 0) {
        if (total === 0) {
          const error = new SendfileNotAvailableError('os.sendfile call failed');
          (error as Error & { cause?: unknown }).cause = sock._error(n, 'sendfile');
          throw error;
        }
        throw sock._error(n, 'sendfile');
      }
      if (n === 0) {
        future.setResult(total);
        return true;
      }
      total += n;
    }
  };
  try {
    if (attempt()) return future;
    return waitFor(loop, sock, WRITE, future, attempt, 'sockSendfile');
  } catch (error) {
    future.setException(error);
    return future;
  }
}

/** asyncio's `_sock_sendfile_fallback`: read a block, `sockSendall` it, repeat. */
async function sendfileFallback(loop: EventLoop, sock: Socket, fd: number, offset: number, count: number | null, result: Future<number>): Promise<void> {
  const block = Buffer.allocUnsafe(count === null ? FALLBACK_BLOCK : Math.min(count, FALLBACK_BLOCK));
  let total = 0;
  let seekable = true;
  try {
    for (;;) {
      const want = count === null ? block.length : Math.min(count - total, block.length);
      if (want <= 0 || result.done()) break;
      let n: number;
      try {
        n = await readAt(fd, block, want, seekable ? offset + total : null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESPIPE' || !seekable) throw error;
        seekable = false;
        continue;
      }
      if (n === 0 || result.done()) break;
      const sending = sockSendall(loop, sock, block.subarray(0, n));
      result.addDoneCallback(() => {
        if (result.cancelled()) sending.cancel();
      });
      await sending;
      total += n;
    }
    if (seekable && total > 0) sock._b.lseek(fd, offset + total, 0);
    if (!result.done()) result.setResult(total);
  } catch (error) {
    if (!result.done()) result.setException(error);
  }
}

function readAt(fd: number, buf: Buffer, length: number, position: number | null): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, length, position, (error, n) => (error ? reject(error) : resolve(n))));
}
