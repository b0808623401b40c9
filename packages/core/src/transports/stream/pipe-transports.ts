import type { Readable, Writable } from 'node:stream';
import type { EventLoop } from '../../loop/event-loop.js';
import type { BaseProtocolLike } from '../protocols.js';
import type { BytesLike, ReadTransport, WriteTransport } from '../transports.js';
import { StreamTransportBase, type StreamTransportOptions } from './base.js';

function checkStream(stream: unknown, method: string, what: 'read' | 'write'): void {
  const ok =
    stream !== null &&
    typeof stream === 'object' &&
    typeof (stream as Readable).on === 'function' &&
    (what === 'read' ? typeof (stream as Readable).pause === 'function' : typeof (stream as Writable).write === 'function');
  if (!ok) {
    throw new TypeError(
      `${method}: pipe must be a Node ${what === 'read' ? 'Readable' : 'Writable'} stream (a child's std${what === 'read' ? 'out' : 'in'}, a net.Socket, an fs stream...), got ${stream === null ? 'null' : typeof stream}`,
    );
  }
}

/**
 * The read end of a pipe over a Node `Readable` (asyncio's
 * `_UnixReadPipeTransport`): `dataReceived` for each chunk (or
 * getBuffer/bufferUpdated for a BufferedProtocol), `pauseReading()` /
 * `resumeReading()`, and at end of stream `eofReceived()` then
 * `connectionLost(null)`. `close()` stops at once. Extra info `'pipe'` is the
 * stream.
 */
export class ReadPipeTransport extends StreamTransportBase implements ReadTransport {
  constructor(loop: EventLoop, pipe: Readable, protocol: BaseProtocolLike<never>, options?: StreamTransportOptions) {
    checkStream(pipe, 'new ReadPipeTransport()', 'read');
    super(loop, protocol, options, pipe, true, false, 'pipe');
    this._begin();
  }

  /** The Node stream under this transport. */
  get pipe(): Readable {
    return this._stream as Readable;
  }

  /** @internal Extra info `'pipe'`: the stream. */
  override _computeExtra(name: string): unknown {
    return name === 'pipe' ? this._stream : undefined;
  }

  /** Whether data is being delivered. */
  isReading(): boolean {
    return this._isReading();
  }

  /** Stops delivering data until `resumeReading()`. */
  pauseReading(this: object): void;
  pauseReading(): void {
    this._pauseReading();
  }

  /** Delivers data again. */
  resumeReading(this: object): void;
  resumeReading(): void {
    this._resumeReading();
  }

  /** Stops reading and closes the pipe; `connectionLost(null)` follows once. */
  close(this: object): void;
  close(): void {
    this._closePipeReader();
  }
}

/**
 * The write end of a pipe over a Node `Writable` (asyncio's
 * `_UnixWritePipeTransport`): `write`/`writelines` with flow control,
 * `writeEof()` (closes the pipe after flushing, which is the reader's EOF),
 * `close()` (= writeEof), `abort()`. Writes after close are dropped and
 * counted. When the reader goes away Node reports EPIPE on the next write:
 * `connectionLost(err)` with `err.code === 'EPIPE'`. Extra info `'pipe'`.
 */
export class WritePipeTransport extends StreamTransportBase implements WriteTransport {
  constructor(loop: EventLoop, pipe: Writable, protocol: BaseProtocolLike<never>, options?: StreamTransportOptions) {
    checkStream(pipe, 'new WritePipeTransport()', 'write');
    super(loop, protocol, options, pipe, false, true, 'pipe');
    this._begin();
  }

  /** The Node stream under this transport. */
  get pipe(): Writable {
    return this._stream as Writable;
  }

  /** @internal Extra info `'pipe'`: the stream. */
  override _computeExtra(name: string): unknown {
    return name === 'pipe' ? this._stream : undefined;
  }

  /** Sets the write-buffer water marks (defaults 64 KiB / 16 KiB). */
  setWriteBufferLimits(high?: number, low?: number): void {
    this._setWriteBufferLimits(high, low);
  }

  /** Bytes Node has not handed to the OS yet. */
  getWriteBufferSize(): number {
    return this._unsentSize();
  }

  /** `[low, high]`. */
  getWriteBufferLimits(): [low: number, high: number] {
    return this._getWriteBufferLimits();
  }

  /** Queues `data` (not copied: do not change it until it has been flushed). Zero bytes: no-op. After close or loss: dropped (a warning after 5). */
  write(this: object, data: BytesLike): void;
  write(data: BytesLike): void {
    this._write(data);
  }

  /** Writes each item in order, in one batch. */
  writelines(this: object, list: Iterable<BytesLike>): void;
  writelines(list: Iterable<BytesLike>): void {
    this._writelines(list);
  }

  /** Flushes, then closes the pipe (the reader sees EOF); `connectionLost(null)` follows. */
  writeEof(this: object): void;
  writeEof(): void {
    this._writeEof();
  }

  /** Pipes support writeEof: true. */
  canWriteEof(): boolean {
    return true;
  }

  /** Same as `writeEof()`. */
  close(this: object): void;
  close(): void {
    this._closePipeWriter();
  }

  /** Closes at once, dropping buffered data; `connectionLost(null)` follows once. */
  abort(this: object): void;
  abort(): void {
    this._abort();
  }
}
