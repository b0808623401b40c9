/**
 * `Socket`: Python's `socket.socket` over a real file descriptor (BSD calls
 * through @aioloop/native-sockets). As in Python a new socket is *blocking*:
 * `recv()`, `accept()`, `connect()` on a blocking socket block the JavaScript
 * thread (and every loop on it) until they complete. Call
 * `setblocking(false)` and use the loop's `sock*` methods to wait without
 * blocking; on a non-blocking socket a call that would block throws
 * {@link BlockingIOError}.
 */
import { describeValue } from '@aioloop/core';
import type { NativeAddress, NativeBinding } from '@aioloop/native-sockets';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM } from '../dns.js';
import { nativeBinding } from './binding.js';
import { resolveError, systemError } from './errors.js';

/** Python's socket addresses: `[host, port]` (AF_INET), `[host, port, flowinfo, scopeId]` (AF_INET6), a path or `'\0name'` (AF_UNIX). */
export type SocketAddress = [host: string, port: number] | [host: string, port: number, flowinfo: number, scopeId: number] | string;

/** A file descriptor, or an object with `fileno()` (a {@link Socket}), as asyncio's fd arguments. */
export type FileLike = number | { fileno(): number };

export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const TCP_NODELAY = 1;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_PEEK = 2;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_WAITALL = 0x100;
export const SOMAXCONN = 4096;

/** @internal -EAGAIN as the native calls return it. */
export const EAGAIN = -11;
const EBADF = -9;
const GAI_BASE = 100000;

/** Sockets of this process that are open, by fd: fd watchers poll these directly (no dup). */
export const openSockets = new Map<number, Socket>();

/** @internal Hooks run just before a Socket's fd is closed (the fd watchers drop theirs). */
export const beforeSocketClose: ((fd: number) => void)[] = [];

let native: NativeBinding | null = null;
function bindingFor(feature: string): NativeBinding {
  return native ?? (native = nativeBinding(feature));
}

function checkInt(value: unknown, method: string, name: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${method}(): ${name} must be an integer, got ${describeValue(value)}`);
  if (value < min) throw new RangeError(`${method}(): ${name} must be >= ${min}, got ${value}`);
  return value;
}

/** @internal The bytes of a Buffer/TypedArray/DataView/ArrayBuffer argument, as a Uint8Array view. */
export function checkBytes(value: unknown, method: string, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`${method}(): ${name} must be a Buffer, TypedArray, DataView or ArrayBuffer, got ${describeValue(value)}`);
}

/** Checks an address for `family` (Python's forms) and returns it for the native call. */
export function checkAddress(family: number, address: unknown, method: string): NativeAddress {
  if (family === AF_UNIX) {
    if (typeof address === 'string') return address;
    if (Buffer.isBuffer(address)) return address.toString('utf8');
    throw new TypeError(`${method}(): an AF_UNIX address is a path string ('\\0name' for an abstract name), got ${describeValue(address)}`);
  }
  const inet6 = family === AF_INET6;
  if (family !== AF_INET && !inet6) throw new TypeError(`${method}(): addresses of family ${family} are not supported`);
  const form = inet6 ? '[host, port, flowinfo?, scopeId?]' : '[host, port]';
  if (!Array.isArray(address) || address.length < 2 || address.length > (inet6 ? 4 : 2) || typeof address[0] !== 'string') {
    throw new TypeError(`${method}(): an ${inet6 ? 'AF_INET6' : 'AF_INET'} address is ${form}, got ${describeValue(address)}`);
  }
  const port: unknown = address[1];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${method}(): the port must be an integer 0-65535, got ${describeValue(port)}`);
  }
  for (let i = 2; i < address.length; i++) {
    const v: unknown = address[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`${method}(): ${i === 2 ? 'flowinfo' : 'scopeId'} must be an integer 0-4294967295, got ${describeValue(v)}`);
    }
  }
  return address as NativeAddress;
}

/** Throws the error for a failed native call (`-errno`, or a name-resolution failure). */
function fail(b: NativeBinding, result: number, syscall: string, address?: unknown): never {
  if (result <= -GAI_BASE) throw resolveError(-(-result - GAI_BASE), Array.isArray(address) ? address[0] : address, b.gaiStrerror(-(-result - GAI_BASE)));
  throw systemError(result, syscall, address);
}

/**
 * Python's `socket.socket` on a real file descriptor. Created blocking;
 * close it with `close()` or `using` (`Symbol.dispose`). Methods throw
 * Node-style system errors (`code`, negative `errno`, `syscall`); on a
 * non-blocking socket a call that would block throws {@link BlockingIOError}.
 */
export class Socket implements Disposable {
  /** The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`). */
  readonly family: number;
  /** The socket type (`SOCK_STREAM`, `SOCK_DGRAM`), without SOCK_NONBLOCK/SOCK_CLOEXEC. */
  readonly type: number;
  /** The protocol number. */
  readonly proto: number;
  /** @internal */ _fd: number;
  /** @internal */ _blocking: boolean;
  /** @internal */ readonly _b: NativeBinding;

  /**
   * `new Socket(family = AF_INET, type = SOCK_STREAM, proto = 0)` makes a new
   * socket; `fileno` adopts an existing socket fd instead (family/type/proto
   * are read from it when omitted), and the Socket then owns that fd.
   */
  constructor(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0, fileno?: number | null) {
    const b = bindingFor('Socket');
    this._b = b;
    checkInt(family, 'Socket', 'family');
    checkInt(type, 'Socket', 'type');
    checkInt(proto, 'Socket', 'proto');
    if (fileno !== undefined && fileno !== null) {
      checkInt(fileno, 'Socket', 'fileno');
      const info = b.sockinfo(fileno);
      if (typeof info === 'number') fail(b, info, 'socket');
      this._fd = fileno;
      this.family = family === AF_INET && info[0] !== AF_INET ? info[0] : family;
      this.type = type === SOCK_STREAM && info[1] !== SOCK_STREAM ? info[1] : type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
      this.proto = proto === 0 ? info[2] : proto;
      const blocking = b.getblocking(fileno);
      this._blocking = blocking === 1;
    } else {
      const fd = b.socket(family, type & ~SOCK_NONBLOCK, proto);
      if (fd < 0) fail(b, fd, 'socket');
      this._fd = fd;
      this.family = family;
      this.type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
      this.proto = proto;
      this._blocking = true;
      if (type & SOCK_NONBLOCK) this.setblocking(false);
    }
    openSockets.set(this._fd, this);
  }

  /**
   * Python's `socket.fromfd(fd, family, type, proto)`: a Socket on a
   * *duplicate* of `fd` (the caller keeps and closes its own fd). Family,
   * type and protocol are read from the fd when omitted.
   */
  static fromFd(fd: number, family?: number, type?: number, proto?: number): Socket {
    const b = bindingFor('Socket.fromFd');
    checkInt(fd, 'Socket.fromFd', 'fd');
    const info = b.sockinfo(fd);
    if (typeof info === 'number') fail(b, info, 'fromfd');
    const dup = b.dup(fd);
    if (dup < 0) fail(b, dup, 'dup');
    return new Socket(family ?? info[0], type ?? info[1], proto ?? info[2], dup);
  }

  /** The file descriptor, or -1 once closed or detached. */
  fileno(): number {
    return this._fd;
  }

  /** Whether blocking mode is on (Python's `getblocking()`). */
  getblocking(): boolean {
    return this._blocking;
  }

  /** Python's `gettimeout()`: `null` in blocking mode, `0` in non-blocking mode (timeouts are not supported). */
  gettimeout(): number | null {
    return this._blocking ? null : 0;
  }

  /** Python's `setblocking(flag)`: `false` makes every call non-blocking (O_NONBLOCK). */
  setblocking(flag: boolean): void {
    if (typeof flag !== 'boolean') throw new TypeError(`Socket.setblocking(): flag must be a boolean, got ${describeValue(flag)}`);
    const rc = this._b.setblocking(this._fd, flag);
    if (rc < 0) fail(this._b, rc, 'setblocking');
    this._blocking = flag;
  }

  /** Binds to `address` (a host name is resolved, blocking, as in Python). */
  bind(address: SocketAddress): void {
    const addr = checkAddress(this.family, address, 'Socket.bind');
    const rc = this._b.bind(this._fd, this.family, addr);
    if (rc < 0) fail(this._b, rc, 'bind', address);
  }

  /** Listens with `backlog` (default `min(SOMAXCONN, 128)`, as Python). */
  listen(backlog = 128): void {
    checkInt(backlog, 'Socket.listen', 'backlog');
    const rc = this._b.listen(this._fd, backlog);
    if (rc < 0) fail(this._b, rc, 'listen');
  }

  /**
   * Connects to `address`. Blocking mode: blocks until connected. Non-blocking:
   * throws BlockingIOError (`EINPROGRESS`) while the connection goes on; wait
   * for writability and read `SO_ERROR`, or use `loop.sockConnect`.
   */
  connect(address: SocketAddress): void {
    const rc = this._connect(address, 'Socket.connect');
    if (rc < 0) fail(this._b, rc, 'connect', address);
  }

  /** @internal connect(2): 0 or -errno. */
  _connect(address: SocketAddress, method: string): number {
    const addr = checkAddress(this.family, address, method);
    const rc = this._b.connect(this._fd, this.family, addr);
    if (rc <= -GAI_BASE) fail(this._b, rc, 'connect', address);
    return rc;
  }

  /** Accepts a connection: `[socket, address]`; the new socket is blocking (Python's default). */
  accept(): [Socket, SocketAddress] {
    const r = this._b.accept(this._fd);
    if (typeof r === 'number') fail(this._b, r, 'accept');
    return [new Socket(this.family, this.type, this.proto, r[0]), r[1] as SocketAddress];
  }

  /** @internal accept(2): `[socket, address]` or -errno. */
  _accept(): [Socket, SocketAddress] | number {
    const r = this._b.accept(this._fd);
    if (typeof r === 'number') return r;
    return [new Socket(this.family, this.type, this.proto, r[0]), r[1] as SocketAddress];
  }

  /** Receives up to `bufsize` bytes (an empty Buffer at end of stream). */
  recv(bufsize: number, flags = 0): Buffer {
    checkInt(bufsize, 'Socket.recv', 'bufsize');
    checkInt(flags, 'Socket.recv', 'flags');
    const r = this._recv(bufsize, flags);
    if (typeof r === 'number') fail(this._b, r, 'recv');
    return r;
  }

  /** @internal recv into a new Buffer: the bytes or -errno. */
  _recv(bufsize: number, flags: number): Buffer | number {
    const buf = Buffer.allocUnsafe(bufsize);
    const n = this._b.recv(this._fd, buf, flags);
    if (n < 0) return n;
    return exact(buf, n);
  }

  /** Receives into `buffer` (at most `nbytes` bytes, 0 = all of it): the count. */
  recvInto(buffer: ArrayBufferView | ArrayBuffer, nbytes = 0, flags = 0): number {
    const view = intoView(buffer, nbytes, 'Socket.recvInto');
    checkInt(flags, 'Socket.recvInto', 'flags');
    const n = this._b.recv(this._fd, view, flags);
    if (n < 0) fail(this._b, n, 'recv');
    return n;
  }

  /** Receives a datagram (or stream bytes) and the sender's address: `[data, address]`. */
  recvfrom(bufsize: number, flags = 0): [Buffer, SocketAddress | null] {
    checkInt(bufsize, 'Socket.recvfrom', 'bufsize');
    checkInt(flags, 'Socket.recvfrom', 'flags');
    const buf = Buffer.allocUnsafe(bufsize);
    const r = this._b.recvfrom(this._fd, buf, flags);
    if (typeof r === 'number') fail(this._b, r, 'recvfrom');
    return [exact(buf, r[0]), r[1] as SocketAddress | null];
  }

  /** Receives into `buffer`: `[count, address]`. */
  recvfromInto(buffer: ArrayBufferView | ArrayBuffer, nbytes = 0, flags = 0): [number, SocketAddress | null] {
    const view = intoView(buffer, nbytes, 'Socket.recvfromInto');
    checkInt(flags, 'Socket.recvfromInto', 'flags');
    const r = this._b.recvfrom(this._fd, view, flags);
    if (typeof r === 'number') fail(this._b, r, 'recvfrom');
    return r as [number, SocketAddress | null];
  }

  /** Sends what the kernel takes now: the count sent (may be less than `data`). */
  send(data: ArrayBufferView | ArrayBuffer, flags = 0): number {
    const bytes = checkBytes(data, 'Socket.send', 'data');
    checkInt(flags, 'Socket.send', 'flags');
    const n = this._b.send(this._fd, bytes, flags);
    if (n < 0) fail(this._b, n, 'send');
    return n;
  }

  /** Sends all of `data` (blocking mode: blocks until done). */
  sendall(data: ArrayBufferView | ArrayBuffer, flags = 0): void {
    let bytes = checkBytes(data, 'Socket.sendall', 'data');
    checkInt(flags, 'Socket.sendall', 'flags');
    while (bytes.length > 0) {
      const n = this._b.send(this._fd, bytes, flags);
      if (n < 0) fail(this._b, n, 'send');
      bytes = bytes.subarray(n);
    }
  }

  /** `sendto(data, address)` or `sendto(data, flags, address)`: the count sent. */
  sendto(data: ArrayBufferView | ArrayBuffer, flagsOrAddress: number | SocketAddress, address?: SocketAddress): number {
    const bytes = checkBytes(data, 'Socket.sendto', 'data');
    const flags = address === undefined ? 0 : checkInt(flagsOrAddress, 'Socket.sendto', 'flags');
    const target = address === undefined ? flagsOrAddress : address;
    const addr = checkAddress(this.family, target, 'Socket.sendto');
    const n = this._b.sendto(this._fd, bytes, flags, this.family, addr);
    if (n < 0) fail(this._b, n, 'sendto', target);
    return n;
  }

  /** Shuts down one or both directions (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`). */
  shutdown(how: number): void {
    checkInt(how, 'Socket.shutdown', 'how');
    const rc = this._b.shutdown(this._fd, how);
    if (rc < 0) fail(this._b, rc, 'shutdown');
  }

  /** The local address. */
  getsockname(): SocketAddress {
    const r = this._b.getsockname(this._fd);
    if (typeof r === 'number') fail(this._b, r, 'getsockname');
    return (r ?? '') as SocketAddress;
  }

  /** The peer's address (ENOTCONN if not connected). */
  getpeername(): SocketAddress {
    const r = this._b.getpeername(this._fd);
    if (typeof r === 'number') fail(this._b, r, 'getpeername');
    return (r ?? '') as SocketAddress;
  }

  /** Sets an option: an integer value, or the raw bytes of a struct. */
  setsockopt(level: number, optname: number, value: number | boolean | ArrayBufferView): void {
    checkInt(level, 'Socket.setsockopt', 'level');
    checkInt(optname, 'Socket.setsockopt', 'optname');
    const v = typeof value === 'boolean' ? Number(value) : typeof value === 'number' ? value : checkBytes(value, 'Socket.setsockopt', 'value');
    if (typeof v === 'number' && !Number.isInteger(v)) throw new TypeError(`Socket.setsockopt(): value must be an integer or bytes, got ${v}`);
    const rc = this._b.setsockopt(this._fd, level, optname, v);
    if (rc < 0) fail(this._b, rc, 'setsockopt');
  }

  /** Reads an option: an integer, or with `buflen` a Buffer of up to that many bytes. */
  getsockopt(level: number, optname: number): number;
  getsockopt(level: number, optname: number, buflen: number): Buffer;
  getsockopt(level: number, optname: number, buflen = 0): number | Buffer {
    checkInt(level, 'Socket.getsockopt', 'level');
    checkInt(optname, 'Socket.getsockopt', 'optname');
    checkInt(buflen, 'Socket.getsockopt', 'buflen');
    const r = this._b.getsockopt(this._fd, level, optname, buflen);
    if (typeof r === 'number') fail(this._b, r, 'getsockopt');
    return Array.isArray(r) ? r[0] : r;
  }

  /** Closes the socket. Closing twice, or after a transport that was handed the socket closed, is harmless. */
  close(): void {
    const fd = this._fd;
    if (fd < 0) return;
    this._fd = -1;
    openSockets.delete(fd);
    for (const hook of beforeSocketClose) hook(fd);
    this._b.close(fd);
  }

  /** Python's `detach()`: gives up the fd without closing it and returns it. */
  detach(): number {
    const fd = this._fd;
    if (fd < 0) return -1;
    this._fd = -1;
    openSockets.delete(fd);
    for (const hook of beforeSocketClose) hook(fd);
    return fd;
  }

  /** `using sock = socket()` closes it at the end of the block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Python's repr: `<Socket fd=5, family=2, type=1, proto=0, laddr=[...]>`. */
  toString(): string {
    const parts = [`fd=${this._fd}`, `family=${this.family}`, `type=${this.type}`, `proto=${this.proto}`];
    if (this._fd >= 0) {
      const local = this._b.getsockname(this._fd);
      if (typeof local !== 'number' && local !== null && local !== '') parts.push(`laddr=${JSON.stringify(local)}`);
      const peer = this._b.getpeername(this._fd);
      if (typeof peer !== 'number' && peer !== null && peer !== '') parts.push(`raddr=${JSON.stringify(peer)}`);
    } else {
      parts[0] = '[closed] fd=-1';
    }
    return `<Socket ${parts.join(', ')}>`;
  }

  /** @internal The error for `-errno` from `syscall` on this socket. */
  _error(result: number, syscall: string, address?: unknown): Error {
    try {
      fail(this._b, result, syscall, address);
    } catch (error) {
      return error as Error;
    }
  }
}

/** A Buffer of exactly `n` bytes: a view when most of `buf` is used, else a copy (frees the rest). */
function exact(buf: Buffer, n: number): Buffer {
  if (n === buf.length) return buf;
  if (n >= buf.length >> 1) return buf.subarray(0, n);
  return Buffer.from(buf.subarray(0, n));
}

function intoView(buffer: unknown, nbytes: unknown, method: string): Uint8Array {
  const view = checkBytes(buffer, method, 'buffer');
  const n = checkInt(nbytes, method, 'nbytes');
  if (n > view.length) throw new RangeError(`${method}(): nbytes (${n}) is larger than the buffer (${view.length} bytes)`);
  return n === 0 ? view : view.subarray(0, n);
}

/** Python's `socket.socket(family, type, proto)`. */
export function socket(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0): Socket {
  return new Socket(family, type, proto);
}

/** Python's `socket.socketpair(family = AF_UNIX, type = SOCK_STREAM, proto = 0)`: two connected sockets. */
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM, proto = 0): [Socket, Socket] {
  const b = bindingFor('socketpair');
  checkInt(family, 'socketpair', 'family');
  checkInt(type, 'socketpair', 'type');
  checkInt(proto, 'socketpair', 'proto');
  const r = b.socketpair(family, type & ~SOCK_NONBLOCK, proto);
  if (typeof r === 'number') fail(b, r, 'socketpair');
  const pair: [Socket, Socket] = [new Socket(family, type & ~SOCK_NONBLOCK, proto, r[0]), new Socket(family, type & ~SOCK_NONBLOCK, proto, r[1])];
  if (type & SOCK_NONBLOCK) for (const s of pair) s.setblocking(false);
  return pair;
}

/** The fd of a {@link FileLike} (asyncio's `_fileobj_to_fd`): a non-negative integer, or `fileno()`'s. */
export function fileobjToFd(fileobj: unknown, method: string): number {
  let fd: unknown = fileobj;
  if (typeof fileobj === 'object' && fileobj !== null && typeof (fileobj as { fileno?: unknown }).fileno === 'function') {
    fd = (fileobj as { fileno(): unknown }).fileno();
  }
  if (typeof fd !== 'number' || !Number.isInteger(fd)) {
    throw new TypeError(`${method}(): expected a file descriptor (a non-negative integer) or an object with fileno(), got ${describeValue(fileobj)}`);
  }
  if (fd < 0) throw new RangeError(`${method}(): invalid file descriptor: ${fd}${fileobj instanceof Socket ? ' (the socket is closed)' : ''}`);
  return fd;
}

/** Whether `value` is a {@link Socket}. */
export function isSocket(value: unknown): value is Socket {
  return value instanceof Socket;
}

/** @internal Not for user code: an error for a closed Socket. */
export function closedSocketError(method: string): Error {
  return systemError(EBADF, method);
}
