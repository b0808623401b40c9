/**
 * What the stream transports over a connection share (the socket and TLS
 * transports): writing with asyncio's rules for a lost connection, a close
 * that flushes first, and abort.
 */
import type { BytesLike } from '../transports.js';
import { ReadableStreamTransport, writeBytes, writeLines } from './base.js';

/**
 * A stream transport that reads and writes one connection (asyncio's
 * `_SelectorSocketTransport` and `_SSLProtocolTransport` share these rules):
 * `write`/`writelines` hand the bytes to Node without a copy and drop them
 * (counting, a warning after 5) once the connection is lost; `close()` stops
 * reading, flushes, then `connectionLost(null)`; `abort()` drops the buffer at
 * once. Its subclasses decide EOF, half-close and extra info.
 */
export abstract class DuplexStreamTransport extends ReadableStreamTransport {
  /** Queues `data` (not copied: do not change it until it has been flushed). Zero bytes: no-op. On a socket after `writeEof()`: RuntimeError. After the connection is lost: dropped (a warning after 5). */
  write(this: object, data: BytesLike): void;
  write(data: BytesLike): void {
    writeBytes(this, data);
  }

  /** Writes each item in order, in one batch. */
  writelines(this: object, list: Iterable<BytesLike>): void;
  writelines(list: Iterable<BytesLike>): void {
    writeLines(this, list);
  }

  /** @internal */
  _writeBytes(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    if (this._lostScheduled) this._lostWrite('socket.send() raised exception.');
    else this._send(bytes);
  }

  /** Stops reading, flushes the buffer, then `connectionLost(null)` (TLS sends close_notify and waits for the peer's first). */
  close(this: object): void;
  close(): void {
    if (!this._stopReadingForClose()) return;
    if (this._streamClosed || this._bufferSize() === 0) this._scheduleLost(null);
    // else: _afterWrite finishes the close when Node's buffer drains.
  }

  /** Closes at once (no close_notify on TLS), dropping buffered data; `connectionLost(null)` follows once. */
  abort(this: object): void;
  abort(): void {
    this._forceClose(null);
  }
}
