import type { Readable, Writable } from 'node:stream';
import type { EventLoop } from '../../loop/event-loop.js';
import type { AnyProtocolLike } from '../protocols.js';
import type { BytesLike, ReadTransport, WriteTransport } from '../transports.js';
import { ReadableStreamTransport, StreamTransportBase, type StreamTransportOptions } from './base.js';
import { writeBytes, writeLines } from './base.js';

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
 * stream. (A read pipe never writes: its write-buffer size is always 0.)
 */
export class ReadPipeTransport extends ReadableStreamTransport implements ReadTransport {
  constructor(loop: EventLoop, pipe: Readable, protocol: AnyProtocolLike, options?: StreamTransportOptions) {
    checkStream(pipe, 'new ReadPipeTransport()', 'read');
    super(loop, protocol, options, pipe, true, false);
    this._begin();
  }

  /** The Node stream under this transport. */
  get pipe(): Readable {
    return this._stream as Readable;
  }

  /** @internal */
  get _kind(): string {
    return 'pipe';
  }

  /** Extra info `'pipe'`: the stream. */
  protected override extraInfo(name: string): unknown {
    return name === 'pipe' ? this._stream : undefined;
  }

  /** @internal End of stream: `eofReceived()` (its answer does not matter), then `connectionLost(null)`. */
  _deliverEof(): void {
    if (!this.beginClosing()) return;
    const protocol = this._protocol;
    try {
      protocol.eofReceived?.();
    } catch (exc) {
      this._loop.callExceptionHandler({ message: 'protocol.eofReceived() call failed', exception: exc, transport: this, protocol });
    }
    this._scheduleLost(null);
  }

  /** Stops reading and closes the pipe; `connectionLost(null)` follows once. */
  close(this: object): void;
  close(): void {
    if (this._stopReadingForClose()) this._scheduleLost(null);
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
  constructor(loop: EventLoop, pipe: Writable, protocol: AnyProtocolLike, options?: StreamTransportOptions) {
    checkStream(pipe, 'new WritePipeTransport()', 'write');
    super(loop, protocol, options, pipe, false, true);
    this._begin();
  }

  /** The Node stream under this transport. */
  get pipe(): Writable {
    return this._stream as Writable;
  }

  /** @internal */
  get _kind(): string {
    return 'pipe';
  }

  /** Extra info `'pipe'`: the stream. */
  protected override extraInfo(name: string): unknown {
    return name === 'pipe' ? this._stream : undefined;
  }

  /** @internal A write pipe reads nothing, so no EOF arrives. */
  _deliverEof(): void {}

  /** Queues `data` (not copied: do not change it until it has been flushed). Zero bytes: no-op. After close or loss: dropped (a warning after 5). */
  write(this: object, data: BytesLike): void;
  write(data: BytesLike): void {
    writeBytes(this, data);
  }

  /** @internal */
  _writeBytes(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    if (this._closing) this._lostWrite('pipe closed by peer or os.write(pipe, data) raised exception.');
    else this._send(bytes);
  }

  /** Writes each item in order, in one batch. */
  writelines(this: object, list: Iterable<BytesLike>): void;
  writelines(list: Iterable<BytesLike>): void {
    writeLines(this, list);
  }

  /** Pipes support writeEof: true. */
  canWriteEof(): boolean {
    return true;
  }

  /** Flushes, then closes the pipe (the reader sees EOF); `connectionLost(null)` follows. */
  writeEof(this: object): void;
  writeEof(): void {
    this.close();
  }

  /** Same as `writeEof()`: flushes, then closes the pipe. */
  close(this: object): void;
  close(): void {
    if (this.beginClosing() && this._bufferSize() === 0) this._scheduleLost(null);
  }

  /** Closes at once, dropping buffered data; `connectionLost(null)` follows once. */
  abort(this: object): void;
  abort(): void {
    this._forceClose(null);
  }
}
