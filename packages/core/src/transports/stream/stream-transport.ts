import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EventLoop } from '../../loop/event-loop.js';
import { RuntimeError } from '../../errors.js';
import type { AnyProtocolLike, BufferedProtocolLike } from '../protocols.js';
import type { Transport } from '../transports.js';
import { EOF_KEPT_OPEN, EOF_SENT, _hostedTransport, type StreamTransportOptions } from './base.js';
import { DuplexStreamTransport } from './duplex-transport.js';
import { fileno, handleAddress, readIntoBuffers, type RawAddress } from './node-private.js';

/**
 * Reads a socket's pending error (SO_ERROR) by fd, or null if there is none.
 * Node cannot: @aioloop/net installs one when @aioloop/native-sockets loads.
 */
export type SocketErrorProbe = (fd: number) => NodeJS.ErrnoException | null;
let socketErrorProbe: SocketErrorProbe | null = null;

/** (core/internal) Installs the probe that tells a peer's reset from its EOF. */
export function setSocketErrorProbe(probe: SocketErrorProbe | null): void {
  socketErrorProbe = probe;
}

/**
 * A reset (RST) that arrives behind bytes not read yet reaches Node as a clean
 * end of stream: libuv takes the hang-up after a short read for EOF. asyncio's
 * recv() reads those bytes, then raises ConnectionResetError. The reset is
 * still pending on the socket (SO_ERROR), so where a probe can read it, it wins.
 */
function pendingReset(stream: Duplex): NodeJS.ErrnoException | null {
  if (socketErrorProbe === null || !(stream instanceof Socket)) return null;
  const fd = fileno(stream);
  return fd >= 0 ? socketErrorProbe(fd) : null;
}

/** Options of {@link StreamTransport}. */
export interface StreamTransportConstructorOptions extends StreamTransportOptions {
  /**
   * The binding whose `onread` option the socket was created with (see
   * {@link BufferedReadBinding}); then bytes are read straight into a
   * BufferedProtocol's buffer.
   */
  onread?: BufferedReadBinding | null;
  /**
   * For a socket whose handle has not started reading yet (a `net.Server`
   * connection accepted with `pauseOnConnect`): read as
   * {@link BufferedReadBinding} does for client sockets — into a scratch
   * buffer shared by all transports, copied into a BufferedProtocol's
   * `getBuffer(-1)` at once (no allocation per read), or straight into the
   * protocol's buffer if it opted in with `zeroCopyReads`; a plain Protocol
   * gets a copy of its own. Node has no public way to do this for accepted
   * sockets, so it uses `net.Socket`'s own `onread` machinery; where that is
   * not available (or the socket already reads) the transport uses Node's
   * 'data' events as usual. Default false.
   */
  readIntoBuffers?: boolean;
}

/** The size of the scratch buffer a {@link BufferedReadBinding} reads into when the protocol's own buffer cannot be used. */
export const ONREAD_SCRATCH_SIZE = 64 * 1024;

let sharedScratch: Buffer | null = null;

/**
 * The scratch buffer of every transport and default-sized binding of this
 * thread: a read lands in it only to be copied out in the same synchronous
 * callback, so one buffer serves every socket.
 */
function scratchBuffer(): Buffer {
  return (sharedScratch ??= Buffer.allocUnsafe(ONREAD_SCRATCH_SIZE));
}

/** The protocol's `getBuffer(-1)`, checked; on failure the transport is failed and null returned. */
function protocolReadBuffer(transport: StreamTransport, protocol: BufferedProtocolLike): Uint8Array | null {
  try {
    const buf = protocol.getBuffer(-1);
    if (!(buf instanceof Uint8Array) || buf.byteLength === 0) {
      throw new RuntimeError('getBuffer() returned an empty buffer or not a Uint8Array');
    }
    return buf;
  } catch (exc) {
    transport._fatalError(exc, 'Fatal error: protocol.getBuffer() call failed.');
    return null;
  }
}

/**
 * A read that landed in a buffer the protocol does not own now (the shared
 * scratch, or a zero-copy buffer the protocol no longer stands behind): a
 * BufferedProtocol that can take data gets it copied into `getBuffer(-1)`,
 * asked now, as asyncio asks just before each read (no allocation); anything
 * else gets a copy of its own through the usual data path.
 */
function deliverCopy(transport: StreamTransport, nread: number, buf: Uint8Array): void {
  if (transport._buffered && transport._canDeliverNow()) {
    // The scratch is a Buffer: no view object for it either.
    const source = buf instanceof Buffer ? buf : Buffer.from(buf.buffer, buf.byteOffset, nread);
    transport._deliver(source, -1, nread);
    // Stopped part-way (paused, protocol switched): the rest must not stay in a buffer the next read overwrites.
    const pending = transport._pending;
    const rest = pending !== null && pending.length > 0 ? (pending[0] as Buffer) : null;
    if (rest !== null && rest.buffer === buf.buffer) pending![0] = Buffer.from(rest);
    return;
  }
  const chunk = Buffer.allocUnsafe(nread);
  chunk.set(nread === buf.byteLength ? buf : buf.subarray(0, nread));
  transport._onData(chunk);
}

/** The protocol's buffer for the next read if it opted in to zero-copy reads (see `BufferedProtocolLike.zeroCopyReads`), else null. */
function zeroCopyReadBuffer(transport: StreamTransport): Uint8Array | null {
  if (!transport._buffered || !transport._canDeliverNow()) return null;
  const protocol = transport._protocol as BufferedProtocolLike;
  if (protocol.zeroCopyReads !== true) return null;
  return protocolReadBuffer(transport, protocol);
}

/** `bufferUpdated(nread)` after a read straight into the protocol's buffer. */
function deliverInPlace(transport: StreamTransport, nread: number): void {
  try {
    (transport._protocol as BufferedProtocolLike).bufferUpdated(nread);
  } catch (exc) {
    transport._fatalError(exc, 'Fatal error: protocol.bufferUpdated() call failed.');
  }
}

/**
 * Reads without a buffer allocated per read, for client sockets. Node reads
 * into a caller's buffer only when the socket is *created* with the `onread`
 * option, before any transport exists, so: create the binding, pass
 * `binding.onread` to `net.connect()` / `new net.Socket()`, then pass the
 * binding to the {@link StreamTransport} that wraps the socket.
 *
 * Reads land in a scratch buffer (one per thread at the default size) and are
 * copied out in the same callback: a BufferedProtocol gets them copied into
 * the buffer `getBuffer(-1)` returns right then, then `bufferUpdated(n)`
 * (asyncio's order); a plain Protocol gets a Buffer of its own in
 * `dataReceived`. A BufferedProtocol that sets `zeroCopyReads` gets no copy:
 * Node reads straight into its buffer, which therefore has to be asked for
 * ahead — right after the previous read (see `BufferedProtocolLike.zeroCopyReads`).
 * Bytes that arrive before `connectionMade` or while the loop is not running
 * are copied and delivered by a loop callback. Switching protocols with
 * `setProtocol()` works in both directions: the next read follows the new
 * protocol's kind.
 */
export class BufferedReadBinding {
  /** Pass this as the socket's `onread` option. */
  readonly onread: { buffer: () => Uint8Array; callback: (nread: number, buf: Uint8Array) => boolean };
  /** @internal */ _transport: StreamTransport | null = null;
  /** @internal Bytes read before a transport was bound (copies). */
  _early: Buffer[] = [];
  /** @internal */ readonly _scratch: Buffer;
  /** @internal The protocol buffer handed to Node for the next read, or null for the scratch. */
  _userBuffer: Uint8Array | null = null;
  /** @internal The protocol that supplied `_userBuffer`. */
  _userBufferOwner: AnyProtocolLike | null = null;

  constructor(scratchSize = ONREAD_SCRATCH_SIZE) {
    if (!Number.isInteger(scratchSize) || scratchSize <= 0) {
      throw new TypeError(`new BufferedReadBinding(): scratchSize must be a positive whole number of bytes, got ${String(scratchSize)}`);
    }
    // The default size shares one buffer per thread (a read is copied out of
    // the scratch within its callback), so a binding costs no buffer of its own.
    this._scratch = scratchSize === ONREAD_SCRATCH_SIZE ? scratchBuffer() : Buffer.allocUnsafe(scratchSize);
    this.onread = { buffer: this._nextBuffer, callback: this._onRead };
  }

  private readonly _nextBuffer = (): Uint8Array => {
    this._userBuffer = null;
    this._userBufferOwner = null;
    const transport = this._transport;
    const buf = transport === null ? null : zeroCopyReadBuffer(transport);
    if (buf === null) return this._scratch;
    this._userBuffer = buf;
    this._userBufferOwner = (transport as StreamTransport)._protocol;
    return buf;
  };

  // Returns true always: pausing goes through socket.pause() (the transport's pauseReading).
  private readonly _onRead = (nread: number, buf: Uint8Array): boolean => {
    const transport = this._transport;
    if (transport === null) {
      this._early.push(Buffer.from(buf.subarray(0, nread)));
      return true;
    }
    if (transport._closing) return true;
    if (buf === this._userBuffer && this._userBufferOwner === transport._protocol && transport._canDeliverNow()) {
      deliverInPlace(transport, nread);
      return true;
    }
    // Scratch (or a buffer that can no longer be handed over): copy.
    deliverCopy(transport, nread, buf);
    return true;
  };
}

// Shared by every transport. Node calls `socket[kBufferCb](nread, buf)` as a
// method of the socket, then `bufGen()` as a plain function for the next
// buffer, at once (same synchronous call): the first tells the second whose
// buffer is wanted.
let nextReadFor: StreamTransport | null = null;
function socketOnRead(this: Socket, nread: number, buf: Uint8Array): boolean {
  const transport = _hostedTransport(this) as StreamTransport;
  transport._onReadInto(nread, buf);
  nextReadFor = transport;
  return true; // pausing goes through socket.pause() (the transport's pauseReading)
}
function socketNextBuffer(): Uint8Array {
  const transport = nextReadFor;
  nextReadFor = null;
  return transport === null ? scratchBuffer() : transport._nextReadBuffer();
}

// The last host strings seen, so that thousands of connections from one host share one string.
let lastPeerHost = '';
let lastSockHost = '';

/** asyncio's address tuple from a host and port: IPv6 hosts (which contain ':') get flowinfo and scope id. */
function addressTuple(host: string | null, port: number): unknown {
  if (host === null) return undefined;
  return host.includes(':') ? [host, port, 0, 0] : [host, port];
}

/**
 * A stream transport over a Node `Duplex` — a connected `net.Socket` (and TLS
 * sockets) — with asyncio's `_SelectorSocketTransport` semantics:
 *
 * - `connectionMade` runs in the next loop iteration (then the waiter resolves
 *   and reading starts); data never reaches the protocol before it.
 * - Protocol callbacks run with the loop as running loop; an exception thrown
 *   by one is reported to `loop.callExceptionHandler({message, exception,
 *   transport, protocol})` and the transport is aborted with
 *   `connectionLost(exc)`.
 * - `write()` hands the caller's bytes to Node without a copy (as asyncio
 *   3.12+: do not change them until flushed); `getWriteBufferSize()` is what the
 *   kernel has not taken yet; flow control fires `pauseWriting`/`resumeWriting`
 *   once per crossing.
 * - EOF from the peer calls `eofReceived()`: `true` keeps the transport open
 *   for writing, anything else closes it. (The socket is switched to
 *   `allowHalfOpen`.)
 * - `close()` stops reading, flushes, then `connectionLost(null)`; `abort()`
 *   drops the buffer at once. `connectionLost` runs exactly once.
 *
 * Extra info: `'socket'`, `'peername'` and `'sockname'` (`[host, port]` for
 * IPv4, `[host, port, flowinfo, scopeid]` for IPv6; Unix paths come through
 * `options.extra` since Node does not report them), plus `options.extra`.
 */
export class StreamTransport extends DuplexStreamTransport implements Transport {
  /** @internal Peer host as captured at construction (null: none known); the tuple is built on request. */
  _peerHost: string | null = null;
  /** @internal */ _peerPort = 0;
  /** @internal Local host as captured at construction (null: none known). */
  _sockHost: string | null = null;
  /** @internal */ _sockPort = 0;
  /** @internal With `readIntoBuffers`: the protocol buffer Node reads into next (null: the shared scratch). */
  _readBuf: Uint8Array | null = null;

  constructor(loop: EventLoop, stream: Duplex, protocol: AnyProtocolLike, options?: StreamTransportConstructorOptions) {
    if (stream === null || typeof stream !== 'object' || typeof (stream as Duplex).write !== 'function' || typeof (stream as Duplex).on !== 'function') {
      throw new TypeError('new StreamTransport(): stream must be a Node Duplex stream such as a connected net.Socket');
    }
    super(loop, protocol, options, stream, true, true);
    // asyncio decides on EOF itself (eofReceived), so Node must not end our side.
    (stream as Duplex & { allowHalfOpen: boolean }).allowHalfOpen = true;
    if (stream instanceof Socket) {
      // Node forgets the addresses once the socket is closed (and a peer's reset
      // closes it before we hear of it): take them now, as asyncio does, but
      // compactly (a transport per connection).
      const extra = this._extra;
      if (extra === null || !('peername' in extra) || !('sockname' in extra)) this._captureAddresses();
    }
    const binding = options?.onread ?? null;
    if (binding !== null) {
      if (!(binding instanceof BufferedReadBinding)) {
        throw new TypeError('new StreamTransport(): options.onread must be a BufferedReadBinding (whose .onread the socket was created with)');
      }
      if (binding._transport !== null) throw new TypeError('new StreamTransport(): this BufferedReadBinding is already bound to another transport');
      binding._transport = this;
      if (binding._early.length > 0) {
        this._pending = binding._early;
        binding._early = [];
      }
    }
    this._begin();
    if (options?.readIntoBuffers === true && binding === null) this._readIntoBuffers();
  }

  /** The Node stream under this transport. */
  get stream(): Duplex {
    return this._stream as Duplex;
  }

  /** @internal */
  get _kind(): string {
    return 'socket';
  }

  /** Extra info `'socket'`, `'peername'`, `'sockname'`. */
  protected override extraInfo(name: string): unknown {
    const stream = this._stream;
    if (!(stream instanceof Socket)) return undefined;
    if (name === 'socket') return stream;
    if (name === 'peername') return addressTuple(this._peerHost, this._peerPort);
    if (name === 'sockname') return addressTuple(this._sockHost, this._sockPort);
    return undefined;
  }

  /** @internal Reads peername/sockname from the socket's handle (or Node's getters where the handle has no such method). */
  _captureAddresses(): void {
    const stream = this._stream as Socket;
    let peer: RawAddress | null | undefined = handleAddress(stream, 'getpeername');
    if (peer === undefined) peer = { address: stream.remoteAddress, port: stream.remotePort };
    if (peer !== null && typeof peer.address === 'string' && peer.address !== '') {
      this._peerHost = peer.address === lastPeerHost ? lastPeerHost : (lastPeerHost = peer.address);
      this._peerPort = peer.port ?? 0;
    }
    let local: RawAddress | null | undefined = handleAddress(stream, 'getsockname');
    if (local === undefined) {
      const info = stream.address();
      local = info !== null && typeof info === 'object' && 'address' in info ? { address: info.address, port: info.port } : null;
    }
    if (local !== null && typeof local.address === 'string' && local.address !== '') {
      this._sockHost = local.address === lastSockHost ? lastSockHost : (lastSockHost = local.address);
      this._sockPort = local.port ?? 0;
    }
  }

  protected override protocolChanged(): void {
    super.protocolChanged();
    // A read already aimed at the old protocol's buffer is copied to the new one.
    this._readBuf = null;
  }

  /** @internal Switches an accepted socket that is not reading yet to reads into buffers (see `readIntoBuffers`); false if it cannot. */
  _readIntoBuffers(): boolean {
    const stream = this._stream;
    if (!(stream instanceof Socket) || _hostedTransport(stream) !== this || stream.destroyed) return false;
    return readIntoBuffers(stream, this._nextReadBuffer(), socketOnRead, socketNextBuffer, this._loop._debug);
  }

  /** @internal (readIntoBuffers) The buffer for the socket's next read. */
  _nextReadBuffer(): Uint8Array {
    const buf = zeroCopyReadBuffer(this);
    this._readBuf = buf;
    return buf ?? scratchBuffer();
  }

  /** @internal (readIntoBuffers) `nread` bytes were read into `buf`. */
  _onReadInto(nread: number, buf: Uint8Array): void {
    if (this._closing) return; // asyncio stops reading on close(): later bytes are never delivered
    if (buf === this._readBuf && this._canDeliverNow()) deliverInPlace(this, nread);
    else deliverCopy(this, nread, buf);
  }

  /** @internal The peer's EOF: `eofReceived()` returning true keeps the transport open for writing; anything else closes it. */
  _deliverEof(): void {
    if (this._closing) return;
    const reset = pendingReset(this._stream as Duplex);
    if (reset !== null) {
      this._fatalError(reset, 'Fatal read error on socket transport');
      return;
    }
    let keepOpen: unknown;
    try {
      keepOpen = this._protocol.eofReceived?.();
    } catch (exc) {
      this._fatalError(exc, 'Fatal error: protocol.eofReceived() call failed.');
      return;
    }
    if (keepOpen === true) this._state |= EOF_KEPT_OPEN;
    else this.close();
  }

  /** @internal */
  override _checkWritable(method: string): void {
    if ((this._state & EOF_SENT) !== 0) throw new RuntimeError(`Cannot call ${method}() after writeEof()`);
    if (this._emptyWaiter !== null) throw new RuntimeError(`unable to ${method}; sendfile is in progress`);
  }

  /** Half-closes: sends EOF (shutdown) after the buffered data. */
  writeEof(this: object): void;
  writeEof(): void {
    if (this._closing || (this._state & EOF_SENT) !== 0) return;
    this._state |= EOF_SENT;
    (this._stream as Duplex).end();
  }

  /** Sockets support half-close: true. */
  canWriteEof(): boolean {
    return true;
  }
}
