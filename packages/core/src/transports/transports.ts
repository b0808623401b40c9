import type { ChildProcess } from 'node:child_process';
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type tls from 'node:tls';
import type { AnyProtocolLike, DatagramAddress } from './protocols.js';

/**
 * A socket address as transports report it (`'peername'`, `'sockname'`):
 * `[host, port]` for IPv4, `[host, port, flowinfo, scopeid]` for IPv6, or the
 * path for a Unix socket (`''` for an unnamed one, `'\0name'` for an abstract
 * name), as Python's socket module gives them.
 */
export type TransportAddress =
  | [host: string, port: number]
  | [host: string, port: number, flowinfo: number, scopeid: number]
  | string;

/**
 * The socket objects a transport may report as `'socket'`, by kind. Packages
 * that add transports add their socket type here by declaration merging
 * (`@aioloop/net` adds its native `Socket`):
 * ```ts
 * declare module '@aioloop/core' {
 *   interface TransportSocketTypes { mine: MySocket }
 * }
 * ```
 */
export interface TransportSocketTypes {
  /** Stream transports over TCP and Unix sockets, and the socket under TLS. */
  stream: net.Socket;
  /** Datagram transports over Node's `dgram`. */
  datagram: dgram.Socket;
}

/** What `getExtraInfo('socket')` may return: any of {@link TransportSocketTypes}. */
export type TransportSocket = TransportSocketTypes[keyof TransportSocketTypes];

/**
 * The type of each extra-info key of asyncio, so that
 * `transport.getExtraInfo('peername')` is typed without a cast. A key a
 * transport does not have gives `undefined` (or the default passed).
 */
export interface TransportExtraInfo {
  /** The remote address; null for a datagram endpoint that is not connected. */
  peername: TransportAddress | null;
  /** The local address. */
  sockname: TransportAddress;
  /** The socket under the transport (under TLS: the TCP or Unix socket). */
  socket: TransportSocket;
  /** TLS: the secure context. */
  sslcontext: tls.SecureContext;
  /** TLS: the peer's certificate (Node's `getPeerCertificate()`), null if it sent none. */
  peercert: tls.PeerCertificate | null;
  /** TLS: `[name, protocol version, secret bits]`; bits are null when the suite name does not tell them. */
  cipher: [name: string, version: string, bits: number | null];
  /** TLS: the compression in use; always null (TLS compression is off in OpenSSL builds Node ships). */
  compression: null;
  /** TLS: the `tls.TLSSocket` (asyncio's `ssl.SSLObject`). */
  ssl_object: tls.TLSSocket;
  /** Pipe transports: the Node stream of the pipe. */
  pipe: Readable | Writable;
  /** Subprocess transports: Node's `ChildProcess`. */
  subprocess: ChildProcess;
}

/** Bytes a transport accepts: a Buffer or any Uint8Array, DataView or ArrayBuffer. Strings are rejected. */
export type BytesLike = Uint8Array | DataView | ArrayBuffer;

/** What every transport can do (asyncio.BaseTransport). */
export interface BaseTransport {
  /** Closes the transport: buffered data is flushed first; the protocol's `connectionLost(null)` follows once. */
  close(this: object): void;
  /** Whether the transport is closing or closed. */
  isClosing(): boolean;
  /**
   * Transport details by asyncio's key names: `'peername'`, `'sockname'`,
   * `'socket'`, `'sslcontext'`, `'peercert'`, `'cipher'`, `'compression'`,
   * `'ssl_object'`, `'pipe'`, `'subprocess'`, typed by
   * {@link TransportExtraInfo}. Returns `defaultValue` (or undefined) if the
   * transport has no such key. Other keys: `getExtraInfo<V>(name)` states the type.
   */
  getExtraInfo<K extends keyof TransportExtraInfo>(name: K): TransportExtraInfo[K] | undefined;
  getExtraInfo<K extends keyof TransportExtraInfo, D>(name: K, defaultValue: D): TransportExtraInfo[K] | D;
  getExtraInfo<V = unknown>(name: string, defaultValue?: V): V | undefined;
  /** Switches the protocol: data arriving later goes to the new one. */
  setProtocol(protocol: AnyProtocolLike): void;
  /** The current protocol. */
  getProtocol(): AnyProtocolLike;
}

/** A transport that receives (asyncio.ReadTransport). */
export interface ReadTransport extends BaseTransport {
  /** Whether it is receiving (not paused). */
  isReading(): boolean;
  /** Stops delivering data until `resumeReading()`; harmless if already paused or closing. */
  pauseReading(this: object): void;
  /** Delivers data again. */
  resumeReading(this: object): void;
}

/** A transport that sends, with write-buffer flow control (asyncio.WriteTransport). */
export interface WriteTransport extends BaseTransport {
  /**
   * Sets the water marks in bytes. With only `high`, `low` is high/4; with
   * only `low`, `high` is 4*low; neither: 64 KiB / 16 KiB.
   */
  setWriteBufferLimits(high?: number, low?: number): void;
  /** Bytes queued and not yet handed to the OS. */
  getWriteBufferSize(): number;
  /** `[low, high]` water marks. */
  getWriteBufferLimits(): [low: number, high: number];
  /**
   * Queues `data`; never blocks and never loses queued data. Like asyncio 3.12+
   * and uvloop, the transport keeps a reference to `data` (no copy) until it is
   * sent: do not modify the buffer after passing it.
   */
  write(this: object, data: BytesLike): void;
  /** Writes each item in order. */
  writelines(this: object, list: Iterable<BytesLike>): void;
  /** Half-closes: sends EOF after the buffered data. Writing afterwards throws. */
  writeEof(this: object): void;
  /** Whether `writeEof()` is supported. */
  canWriteEof(): boolean;
  /** Closes at once, dropping buffered data; `connectionLost(null)` follows once. */
  abort(this: object): void;
}

/** A bidirectional stream transport (asyncio.Transport). */
export interface Transport extends ReadTransport, WriteTransport {}

/** A datagram transport (asyncio.DatagramTransport). */
export interface DatagramTransport extends BaseTransport {
  /** Sends one datagram to `addr` (or the connected peer when omitted). */
  sendto(this: object, data: BytesLike, addr?: DatagramAddress): void;
  /** Closes at once, dropping queued datagrams. */
  abort(this: object): void;
  /** Bytes queued and not yet sent. */
  getWriteBufferSize(): number;
}

/** A child process (asyncio.SubprocessTransport). */
export interface SubprocessTransport extends BaseTransport {
  /** The child's process id. */
  getPid(): number | undefined;
  /** The exit code, a negative signal number if killed by a signal, or null while it runs. */
  getReturncode(): number | null;
  /** The transport of the child's stdin (0), stdout (1) or stderr (2), or null if that pipe was not requested. */
  getPipeTransport(fd: 0 | 1 | 2): ReadTransport | WriteTransport | null;
  /** Sends `signal` (name or number) to the child. */
  sendSignal(this: object, signal: NodeJS.Signals | number): void;
  /** Sends SIGTERM. */
  terminate(this: object): void;
  /** Sends SIGKILL. */
  kill(this: object): void;
}

/**
 * Checks and converts a write argument to a Uint8Array view without copying.
 * Throws a TypeError naming the method and what is accepted.
 */
export function toBytes(data: unknown, method = 'write'): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const got = typeof data === 'string' ? 'a string (encode it first, e.g. Buffer.from(text))' : data === null ? 'null' : typeof data === 'object' ? `${(data as object).constructor?.name ?? 'an'} object` : typeof data;
  throw new TypeError(`${method}(): data must be bytes (a Buffer, Uint8Array, DataView or ArrayBuffer), got ${got}`);
}
