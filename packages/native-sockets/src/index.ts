/**
 * @aioloop/native-sockets — the native part of @aioloop/net: BSD socket calls
 * on file descriptors and libuv poll watchers (Node-API, loaded with
 * node-gyp-build). Its API is low level on purpose: every call takes an fd and
 * returns its result or a negative errno. Use `Socket` and the loop methods of
 * @aioloop/net; this package is their engine.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A result of a system call: the value, or a negative errno (`-11` is EAGAIN). */
export type Errno = number;

/** Python's address forms: `[host, port]`, `[host, port, flowinfo, scopeId]`, or a path (`'\0name'` is abstract). */
export type NativeAddress = [string, number] | [string, number, number, number] | string;

/** A libuv poll watcher on one fd (`uv_poll_t`); see {@link NativeBinding.Poll}. */
export interface NativePoll {
  /** Watches for `events` (UV_READABLE | UV_WRITABLE), replacing the previous set: 0 or a negative errno (EBADF for a closed fd). */
  start(events: number): Errno;
  /** Stops watching; `start()` may be called again. */
  stop(): void;
  /** Stops for good and releases the handle (closes the fd if the watcher owns it). Idempotent. */
  close(): void;
  /** The watched fd, or -1 once closed. */
  readonly fd: number;
}

/** The constants of the platform's socket API, and libuv's poll events. */
export interface NativeConstants {
  readonly [name: string]: number;
  readonly AF_UNSPEC: number;
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly AF_UNIX: number;
  readonly SOCK_STREAM: number;
  readonly SOCK_DGRAM: number;
  readonly SOL_SOCKET: number;
  readonly SO_ERROR: number;
  readonly UV_READABLE: number;
  readonly UV_WRITABLE: number;
  readonly UV_DISCONNECT: number;
}

/**
 * The addon's functions. Each returns its result, or a negative errno for a
 * failed system call (never throws for one); they throw a TypeError for
 * arguments of the wrong type. fds are created close-on-exec and blocking.
 */
export interface NativeBinding {
  socket(family: number, type: number, proto: number): number | Errno;
  socketpair(family: number, type: number, proto: number): [number, number] | Errno;
  /** 0 or -errno; `blocking: false` sets O_NONBLOCK. */
  setblocking(fd: number, blocking: boolean): Errno;
  /** 1 blocking, 0 non-blocking, or -errno. */
  getblocking(fd: number): number;
  bind(fd: number, family: number, address: NativeAddress): Errno;
  /** -EINPROGRESS on a non-blocking socket that is still connecting. */
  connect(fd: number, family: number, address: NativeAddress): Errno;
  listen(fd: number, backlog: number): Errno;
  /** The accepted fd (blocking, close-on-exec) and the peer's address. */
  accept(fd: number): [number, NativeAddress] | Errno;
  /** Reads into all of `into`: the byte count (0 at EOF) or -errno. */
  recv(fd: number, into: Uint8Array, flags: number): number;
  recvfrom(fd: number, into: Uint8Array, flags: number): [number, NativeAddress | null] | Errno;
  /** Sends from `data` (MSG_NOSIGNAL added): the count sent or -errno. */
  send(fd: number, data: Uint8Array, flags: number): number;
  sendto(fd: number, data: Uint8Array, flags: number, family: number, address: NativeAddress): number;
  shutdown(fd: number, how: number): Errno;
  getsockname(fd: number): NativeAddress | null | Errno;
  getpeername(fd: number): NativeAddress | null | Errno;
  setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): Errno;
  /** `buflen` 0: `[intValue]`; else a Buffer of up to `buflen` bytes. */
  getsockopt(fd: number, level: number, name: number, buflen: number): [number] | Buffer | Errno;
  close(fd: number): Errno;
  /** A new close-on-exec fd for the same open file. */
  dup(fd: number): number | Errno;
  /** `[family, type, proto]` of a socket fd; -ENOTSOCK for other files. */
  sockinfo(fd: number): [number, number, number] | Errno;
  /** `[st_dev, st_ino, S_IFMT bits]` of an fd: whether it is open, and which file it is. */
  fdstat(fd: number): [number, number, number] | Errno;
  /** sendfile(2) from `inFd` at `offset`: bytes sent or -errno. */
  sendfile(outFd: number, inFd: number, offset: number, count: number): number;
  /**
   * recvmmsg(2), non-blocking: up to `maxCount` (at most 64) datagrams in one call.
   * Datagram i is at `slab[i * slotSize]`, its length in `meta[2i]`, its sockaddr
   * length in `meta[2i + 1]` and the sockaddr at `addrs[i * 128]` (decode with
   * `decodeSockaddr`). Returns the count or -errno.
   */
  recvmmsg(fd: number, slab: Uint8Array, slotSize: number, maxCount: number, meta: Int32Array, addrs: Uint8Array): number;
  /** lseek(2): the new offset or -errno. */
  lseek(fd: number, offset: number, whence: number): number;
  decodeSockaddr(bytes: Uint8Array, offset: number, length: number): NativeAddress | null | number;
  /** The message of a getaddrinfo error code. Name lookups in bind/connect/sendto fail with `-(100000 - eai)`. */
  gaiStrerror(code: number): string;
  readonly constants: NativeConstants;
  /** `new Poll(fd, callback, ownsFd)`: throws a system error for an fd libuv cannot poll. */
  readonly Poll: new (fd: number, callback: (this: NativePoll, status: number, events: number) => void, ownsFd: boolean) => NativePoll;
}

/** getaddrinfo failures come back as `-(GAI_ERROR_BASE - eai)`. */
export const GAI_ERROR_BASE = 100000;

declare const __filename: string | undefined;
// Built as CommonJS only (the ES entry re-exports it), and vitest defines __filename for
// sources: no import.meta, which a CommonJS file cannot contain. dist/ and src/ sit one
// level under the package root.
const here = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
const root = join(dirname(here), '..');
const require = createRequire(here);

/** The loaded addon (node-gyp-build picks build/Release or prebuilds/<platform>-<arch>). */
export const binding: NativeBinding = (require('node-gyp-build') as (dir: string) => NativeBinding)(root);
