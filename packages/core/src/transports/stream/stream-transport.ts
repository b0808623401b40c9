import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EventLoop } from '../../loop/event-loop.js';
import { RuntimeError } from '../../errors.js';
import type { BaseProtocolLike, BufferedProtocolLike } from '../protocols.js';
import type { BytesLike, Transport } from '../transports.js';
import { StreamTransportBase, type StreamTransportOptions } from './base.js';

/** Options of {@link StreamTransport}. */
export interface StreamTransportConstructorOptions extends StreamTransportOptions {
  /**
   * The binding whose `onread` option the socket was created with (see
   * {@link BufferedReadBinding}); then bytes are read straight into a
   * BufferedProtocol's buffer.
   */
  onread?: BufferedReadBinding | null;
}

/** The size of the scratch buffer a {@link BufferedReadBinding} reads into when the protocol's own buffer cannot be used. */
export const ONREAD_SCRATCH_SIZE = 64 * 1024;

/**
 * Zero-copy reads for client sockets and BufferedProtocol. Node reads into a
 * caller's buffer only when the socket is *created* with the `onread` option,
 * before any transport exists, so: create the binding, pass
 * `binding.onread` to `net.connect()` / `new net.Socket()`, then pass the
 * binding to the {@link StreamTransport} that wraps the socket.
 *
 * While the protocol is a BufferedProtocol (and the transport is reading), each
 * socket read lands in the buffer its `getBuffer(-1)` returned, followed by
 * `bufferUpdated(nread)`. Node asks for the next buffer right after each read,
 * so `getBuffer` is called once ahead of the data. Otherwise (a plain
 * Protocol, bytes that arrive before `connectionMade`, or while the loop is not
 * running) reads land in a scratch buffer and are copied: a plain Protocol gets
 * its own copy in `dataReceived`; a BufferedProtocol gets the bytes copied into
 * `getBuffer()`. Switching protocols with `setProtocol()` therefore works in
 * both directions: the next read follows the new protocol's kind.
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
  _userBufferOwner: BaseProtocolLike<never> | null = null;

  constructor(scratchSize = ONREAD_SCRATCH_SIZE) {
    if (!Number.isInteger(scratchSize) || scratchSize <= 0) {
      throw new TypeError(`new BufferedReadBinding(): scratchSize must be a positive whole number of bytes, got ${String(scratchSize)}`);
    }
    this._scratch = Buffer.allocUnsafe(scratchSize);
    this.onread = { buffer: this._nextBuffer, callback: this._onRead };
  }

  private readonly _nextBuffer = (): Uint8Array => {
    this._userBuffer = null;
    this._userBufferOwner = null;
    const transport = this._transport;
    if (transport === null || !transport._buffered || !transport._canDeliverNow()) return this._scratch;
    const protocol = transport._protocol as BufferedProtocolLike;
    let buf: Uint8Array;
    try {
      buf = protocol.getBuffer(-1);
      if (!(buf instanceof Uint8Array) || buf.byteLength === 0) {
        throw new RuntimeError('getBuffer() returned an empty buffer or not a Uint8Array');
      }
    } catch (exc) {
      transport._fatalError(exc, 'Fatal error: protocol.getBuffer() call failed.');
      return this._scratch;
    }
    this._userBuffer = buf;
    this._userBufferOwner = protocol;
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
      const protocol = transport._protocol as BufferedProtocolLike;
      try {
        protocol.bufferUpdated(nread);
      } catch (exc) {
        transport._fatalError(exc, 'Fatal error: protocol.bufferUpdated() call failed.');
      }
      return true;
    }
    // Scratch (or a buffer that can no longer be handed over): copy.
    const chunk = Buffer.allocUnsafe(nread);
    chunk.set(buf.subarray(0, nread));
    transport._onData(chunk);
    return true;
  };
}

function socketAddress(family: string | undefined, address: string | undefined, port: number | undefined): unknown {
  if (address === undefined || address === '') return undefined;
  if (family === 'IPv6') return [address, port ?? 0, 0, 0];
  return [address, port ?? 0];
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
 * - `write()` copies the bytes into Node's stream (the caller may reuse its
 *   buffer); `getWriteBufferSize()` is what Node has not flushed yet; flow
 *   control fires `pauseWriting`/`resumeWriting` once per crossing.
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
export class StreamTransport extends StreamTransportBase implements Transport {
  /** The Node stream under this transport. */
  readonly stream: Duplex;

  constructor(loop: EventLoop, stream: Duplex, protocol: BaseProtocolLike<never>, options?: StreamTransportConstructorOptions) {
    if (stream === null || typeof stream !== 'object' || typeof (stream as Duplex).write !== 'function' || typeof (stream as Duplex).on !== 'function') {
      throw new TypeError('new StreamTransport(): stream must be a Node Duplex stream such as a connected net.Socket');
    }
    super(loop, protocol, options, stream, stream, 'socket');
    this.stream = stream;
    // asyncio decides on EOF itself (eofReceived), so Node must not end our side.
    (stream as Duplex & { allowHalfOpen: boolean }).allowHalfOpen = true;
    if (stream instanceof Socket) {
      const extra = this._extra;
      if (!('socket' in extra)) extra.socket = stream;
      if (!('peername' in extra)) {
        const peer = socketAddress(stream.remoteFamily, stream.remoteAddress, stream.remotePort);
        if (peer !== undefined) extra.peername = peer;
      }
      if (!('sockname' in extra)) {
        const local = stream.address();
        if (local !== null && typeof local === 'object' && 'address' in local) {
          const sock = socketAddress(local.family, local.address, local.port);
          if (sock !== undefined) extra.sockname = sock;
        }
      }
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
  }

  /** Whether data is being delivered (not paused, not closing). */
  isReading(): boolean {
    return this._isReading();
  }

  /** Stops delivering data until `resumeReading()`; no data reaches the protocol meanwhile. */
  pauseReading(): void {
    this._pauseReading();
  }

  /** Delivers data again, starting with anything held back. */
  resumeReading(): void {
    this._resumeReading();
  }

  /** Sets the write-buffer water marks (defaults 64 KiB / 16 KiB). */
  setWriteBufferLimits(high?: number, low?: number): void {
    this._flow.setLimits(high, low);
  }

  /** Bytes Node has not handed to the OS yet. */
  getWriteBufferSize(): number {
    return this._bufferSize();
  }

  /** `[low, high]`. */
  getWriteBufferLimits(): [low: number, high: number] {
    return this._flow.getLimits();
  }

  /** Queues `data` (copied). Zero bytes: no-op. After `writeEof()`: RuntimeError. After the connection is lost: dropped (a warning after 5). */
  write(data: BytesLike): void {
    this._write(data);
  }

  /** Writes each item in order, in one batch. */
  writelines(list: Iterable<BytesLike>): void {
    this._writelines(list);
  }

  /** Half-closes: sends EOF (shutdown) after the buffered data. */
  writeEof(): void {
    this._writeEof();
  }

  /** Sockets support half-close: true. */
  canWriteEof(): boolean {
    return true;
  }

  /** Stops reading, flushes the buffer, then `connectionLost(null)`. */
  close(): void {
    this._closeSocket();
  }

  /** Closes at once, dropping buffered data; `connectionLost(null)` follows once. */
  abort(): void {
    this._abort();
  }
}
