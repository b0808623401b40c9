import type { Readable, Writable } from 'node:stream';
import type { EventLoop } from '../../loop/event-loop.js';
import { RELEASE_ON_LOOP_CLOSE, RESOURCE_KIND } from '../../loop/resources.js';
import type { Future } from '../../futures/future.js';
import { runningLoopOrNull } from '../../loop/thread-state.js';
import { logger } from '../../debug/logger.js';
import { RuntimeError } from '../../errors.js';
import { TRANSPORT_CLOSING, TRANSPORT_FIRST_FREE_BIT } from '../base-transport.js';
import { FlowControlTransport } from '../flow-control.js';
import { checkProtocol, isBufferedProtocol, type AnyProtocolLike, type BufferedProtocolLike, type ProtocolLike } from '../protocols.js';
import { toBytes, type BaseTransport, type BytesLike } from '../transports.js';

/** After this many writes to a lost connection, each further write logs a warning (asyncio's LOG_THRESHOLD_FOR_CONNLOST_WRITES). */
export const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;

/** Key of {@link TransportServer}'s hook: a transport for an accepted connection was created. */
export const TRANSPORT_ATTACHED: unique symbol = Symbol('@aioloop/core.transportAttached');
/** Key of {@link TransportServer}'s hook: that transport's `connectionLost` has run. */
export const TRANSPORT_DETACHED: unique symbol = Symbol('@aioloop/core.transportDetached');
/** Key of {@link TransportServer}'s optional hook: the protocol's `connectionMade` threw. */
export const CONNECTION_MADE_FAILED: unique symbol = Symbol('@aioloop/core.connectionMadeFailed');

/**
 * What a transport tells the server that accepted its connection:
 * `[TRANSPORT_ATTACHED]` when the transport is created, `[TRANSPORT_DETACHED]`
 * after its `connectionLost` ran. `Server.waitClosed()` and `closeClients()`
 * are built on these. The hooks are symbol-keyed (asyncio's `_attach` /
 * `_detach`), so a server's own API keeps its names.
 */
export interface TransportServer {
  /** A transport for an accepted connection was created. */
  [TRANSPORT_ATTACHED](transport: BaseTransport): void;
  /** That transport's `connectionLost` has run. */
  [TRANSPORT_DETACHED](transport: BaseTransport): void;
  /**
   * Optional: the protocol's `connectionMade` threw and the transport has no
   * waiter to reject. The server reports it (asyncio's "Error on transport
   * creation for incoming connection"); the transport then aborts with
   * `connectionLost(exc)`. Without this hook the loop's exception handler gets
   * "Fatal error: protocol.connectionMade() call failed.".
   */
  [CONNECTION_MADE_FAILED]?(transport: BaseTransport, exc: unknown): void;
}

/** Options shared by every stream-backed transport. */
export interface StreamTransportOptions {
  /** Extra info served by `getExtraInfo(name)`; overrides what the transport computes. */
  extra?: Record<string, unknown>;
  /** Resolved (with undefined) right after `connectionMade` ran; rejected with its error if it threw. */
  waiter?: Future<void> | null;
  /** The server that accepted this connection, told about the transport's life. */
  server?: TransportServer | null;
}

/** @internal */
export type ReadingProtocol = Partial<ProtocolLike> & Partial<BufferedProtocolLike> & AnyProtocolLike;

const EMPTY_QUEUE: readonly Buffer[] = [];

/** Whether `exc` is an operating-system error (asyncio's OSError): Node's system errors carry a string `code` and numeric `errno`. */
export function isSystemError(exc: unknown): exc is NodeJS.ErrnoException {
  return exc instanceof Error && typeof (exc as NodeJS.ErrnoException).code === 'string' && typeof (exc as NodeJS.ErrnoException).errno === 'number';
}

// State bits of a stream transport, after the two of its bases (closing, and
// writing paused): one small integer instead of a dozen boolean fields, since a
// server holds a transport per connection.
//
// Legal combinations (anything else is a bug):
// - READS and/or WRITES is fixed at construction: a socket has both, a read
//   pipe READS only, a write pipe WRITES only. PAUSED, BUFFERED, EOF_SEEN and
//   DRAIN_SCHEDULED only occur with READS; PROTOCOL_PAUSED only with WRITES.
// - LOST implies CLOSING (every path that schedules connectionLost has set
//   CLOSING first); once LOST is set no bit is cleared except DRAIN_SCHEDULED.
// - EOF_SEEN implies not CLOSING (closing drops a held EOF); DRAIN_SCHEDULED
//   implies STARTED.
// - EOF_SENT and EOF_KEPT_OPEN are socket states (half-close each way); both
//   together are the only way STREAM_CLOSED is set without held data or EOF.
const CLOSING = TRANSPORT_CLOSING;
/** connectionLost has been scheduled (it runs once). */
const LOST = 1 << TRANSPORT_FIRST_FREE_BIT;
/** connectionMade has run (reading may start). */
const STARTED = 1 << (TRANSPORT_FIRST_FREE_BIT + 1);
/** pauseReading() is in effect. */
const PAUSED = 1 << (TRANSPORT_FIRST_FREE_BIT + 2);
/** The protocol takes getBuffer/bufferUpdated. */
const BUFFERED = 1 << (TRANSPORT_FIRST_FREE_BIT + 3);
/** A callback that drains `_pending` is queued. */
const DRAIN_SCHEDULED = 1 << (TRANSPORT_FIRST_FREE_BIT + 4);
/** EOF arrived behind pending data. */
const EOF_SEEN = 1 << (TRANSPORT_FIRST_FREE_BIT + 5);
/** @internal Socket: writeEof() was called. */
export const EOF_SENT = 1 << (TRANSPORT_FIRST_FREE_BIT + 6);
/** @internal Socket: eofReceived() returned true (transport kept open for writing). */
export const EOF_KEPT_OPEN = 1 << (TRANSPORT_FIRST_FREE_BIT + 7);
/** The Node stream closed by itself while the transport stays open (both directions ended). */
const STREAM_CLOSED = 1 << (TRANSPORT_FIRST_FREE_BIT + 8);
/** The stream is read from. */
const READS = 1 << (TRANSPORT_FIRST_FREE_BIT + 9);
/** The stream is written to. */
const WRITES = 1 << (TRANSPORT_FIRST_FREE_BIT + 10);

/**
 * The stream property through which the shared listener functions below find
 * their transport: one set of functions for every transport instead of a set
 * of bound closures per transport.
 */
const kTransport = Symbol('@aioloop/core.streamTransport');

/** @internal A Node stream carrying its transport. */
export type HostStream = (Readable | Writable) & { [kTransport]?: StreamTransportBase };

function onStreamData(this: HostStream, chunk: Buffer | string | Uint8Array): void {
  (this[kTransport] as StreamTransportBase)._onData(chunk);
}
function onStreamEnd(this: HostStream): void {
  (this[kTransport] as StreamTransportBase)._onEnd();
}
function onStreamError(this: HostStream, err: Error): void {
  (this[kTransport] as StreamTransportBase)._onError(err);
}
function onStreamClose(this: HostStream): void {
  (this[kTransport] as StreamTransportBase)._onClose();
}

// Loop callbacks, shared: the transport comes as the argument.
function callConnectionMade(transport: StreamTransportBase): void {
  transport._connectionMade();
}
function callStartReading(transport: StreamTransportBase): void {
  transport._startReading();
}
function callDrainPending(transport: StreamTransportBase): void {
  transport._drainPending();
}
function callConnectionLost(transport: StreamTransportBase, exc: Error | null): void {
  transport._callConnectionLost(exc);
}
function callMaybeResume(transport: StreamTransportBase): void {
  transport._resumeProtocolLater();
}

/** @internal The transport that owns `stream`'s shared listeners, if any. */
export function _hostedTransport(stream: object): StreamTransportBase | undefined {
  return (stream as HostStream)[kTransport];
}

/**
 * The read and write path shared by every transport over one Node stream —
 * {@link StreamTransport} (sockets), {@link ReadPipeTransport} and
 * {@link WritePipeTransport}: Node's listeners, `connectionMade` before any
 * data, delivery to a Protocol or BufferedProtocol (at once while the loop
 * runs, else held and delivered in order by a loop callback), pause and
 * resume, writes handed to Node without a copy with flow control, force-close
 * and `connectionLost` exactly once. What differs between sockets and pipes —
 * what the peer's EOF means, which writes are refused, how `close()` and
 * `writeEof()` end the stream — is each subclass's. Members starting with `_`
 * are internal.
 *
 * Memory per transport is kept small (a server holds one per connection): the
 * Node listeners and loop callbacks are shared functions that find the
 * transport through the stream (or their argument), the flags live in one
 * integer, and the write-completion callback is created on the first write.
 */
export abstract class StreamTransportBase extends FlowControlTransport<ReadingProtocol> {
  /** @internal */ declare readonly _loop: EventLoop;
  /** @internal asyncio's `_conn_lost`: 1 once connectionLost is scheduled, plus the writes dropped since. */
  _connLost = 0;
  /** @internal */ _server: TransportServer | null;
  /** @internal */ _waiter: Future<void> | null;
  /** @internal Chunks received but not yet delivered, in order (null: none). */
  _pending: Buffer[] | null = null;
  /** @internal The Node stream. */
  readonly _stream: Readable | Writable;
  /** @internal Node's per-write completion callback (bound to this transport), created on the first write. */
  _afterWriteCb: ((err?: Error | null) => void) | null = null;
  /**
   * @internal asyncio's `_empty_waiter`: set while a zero-copy sendfile owns
   * the socket; resolved once Node's write buffer is empty, rejected if the
   * connection is lost first. Writes are refused while it is set.
   */
  _emptyWaiter: Future<void> | null = null;

  /** @internal */
  constructor(loop: EventLoop, protocol: AnyProtocolLike, options: StreamTransportOptions | undefined, stream: Readable | Writable, reads: boolean, writes: boolean) {
    checkProtocol(protocol, `new ${new.target.name}()`);
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError(`new ${new.target.name}(): options must be an object such as { extra, waiter, server }`);
    }
    super(loop, protocol as ReadingProtocol, options?.extra);
    this._state = (isBufferedProtocol(protocol) ? BUFFERED : 0) | (reads ? READS : 0) | (writes ? WRITES : 0);
    this._waiter = options?.waiter ?? null;
    this._server = options?.server ?? null;
    this._stream = stream;
  }

  /** @internal What the stream is, for error messages: 'socket' or 'pipe'. */
  abstract get _kind(): string;

  /** @internal The peer's EOF reaches the protocol (socket: eofReceived decides; pipe: then connectionLost). */
  abstract _deliverEof(): void;

  // ------------------------------------------------------------ state bits

  /** @internal Whether the transport is closing or closed. */
  get _closing(): boolean {
    return (this._state & CLOSING) !== 0;
  }

  /** @internal connectionLost has been scheduled. */
  get _lostScheduled(): boolean {
    return (this._state & LOST) !== 0;
  }

  /** @internal connectionMade has run. */
  get _started(): boolean {
    return (this._state & STARTED) !== 0;
  }

  /** @internal pauseReading() is in effect. */
  get _paused(): boolean {
    return (this._state & PAUSED) !== 0;
  }

  /** @internal The protocol is a BufferedProtocol. */
  get _buffered(): boolean {
    return (this._state & BUFFERED) !== 0;
  }

  /** @internal The readable side (null for a write pipe). */
  get _readable(): Readable | null {
    return (this._state & READS) !== 0 ? (this._stream as Readable) : null;
  }

  /** @internal Wires the stream and schedules connectionMade; subclasses call it at the end of their constructor. */
  _begin(): void {
    const stream = this._stream as HostStream;
    const reads = (this._state & READS) !== 0;
    if (stream[kTransport] === undefined) {
      stream[kTransport] = this;
      stream.on('error', onStreamError);
      stream.on('close', onStreamClose);
      if (reads) {
        (stream as Readable).pause();
        stream.on('data', onStreamData);
        stream.on('end', onStreamEnd);
      }
    } else {
      // The stream already serves another transport (say a read pipe and a
      // write pipe over one socket): this one gets listeners of its own.
      stream.on('error', (err: Error) => this._onError(err));
      stream.on('close', () => this._onClose());
      if (reads) {
        (stream as Readable).pause();
        stream.on('data', (chunk: Buffer) => this._onData(chunk));
        stream.on('end', () => this._onEnd());
      }
    }
    this._server?.[TRANSPORT_ATTACHED](this);
    this._loop._resources.add(this);
    this._loop._callSoon(callConnectionMade as (...args: unknown[]) => void, [this]);
  }

  protected override protocolChanged(): void {
    this._state = isBufferedProtocol(this._protocol) ? this._state | BUFFERED : this._state & ~BUFFERED;
  }

  /** @internal Reports an exception from a protocol callback (or an unexpected stream error) and force-closes with it. */
  _fatalError(exc: unknown, message: string): void {
    if (isSystemError(exc)) {
      if (this._loop._debug) logger.debug(`${this.toString()}: ${message}: ${String(exc)}`);
    } else {
      this._loop.callExceptionHandler({ message, exception: exc, transport: this, protocol: this._protocol });
    }
    this._forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  /** @internal asyncio's `_force_close`: drops buffered data, stops reading, connectionLost(exc) soon. */
  _forceClose(exc: Error | null): void {
    if ((this._state & LOST) !== 0) return;
    this._state = (this._state | CLOSING) & ~EOF_SEEN;
    this._pending = null;
    // Closing the stream now drops what Node still buffers, as asyncio clears its buffer.
    this._stream.destroy();
    this._scheduleLost(exc);
  }

  /** @internal Schedules connectionLost(exc), once. */
  _scheduleLost(exc: Error | null): void {
    if ((this._state & LOST) !== 0) return;
    this._state |= LOST;
    this._connLost++;
    this._loop._callSoon(callConnectionLost as (...args: unknown[]) => void, [this, exc]);
  }

  /** @internal Runs as a loop callback: connectionLost once, then the stream is closed and the server told. */
  _callConnectionLost(exc: Error | null): void {
    const protocol = this._protocol;
    const empty = this._emptyWaiter;
    if (empty !== null && !empty.done()) empty.setException(connectionClosedError());
    try {
      protocol.connectionLost(exc);
    } catch (error) {
      this._loop.callExceptionHandler({ message: 'protocol.connectionLost() call failed', exception: error, transport: this, protocol });
    } finally {
      this._stream.destroy();
      this._loop._resources.delete(this);
      const server = this._server;
      this._server = null;
      server?.[TRANSPORT_DETACHED](this);
    }
  }

  /** @internal Runs as a loop callback. */
  _connectionMade(): void {
    // Runs even if the transport was aborted before the first iteration: asyncio
    // calls connection_made before connection_lost in that case too.
    if (!this._callProtocolConnectionMade()) return;
    this._state |= STARTED;
    this._loop._callSoon(callStartReading as (...args: unknown[]) => void, [this]);
  }

  private _callProtocolConnectionMade(): boolean {
    const waiter = this._waiter;
    try {
      this._protocol.connectionMade(this as never);
    } catch (exc) {
      this._waiter = null;
      const server = this._server;
      if (waiter !== null && !waiter.done()) {
        waiter.setException(exc);
        this._forceClose(exc instanceof Error ? exc : new Error(String(exc)));
      } else if (server !== null && server[CONNECTION_MADE_FAILED] !== undefined) {
        server[CONNECTION_MADE_FAILED](this, exc);
        this._forceClose(exc instanceof Error ? exc : new Error(String(exc)));
      } else {
        this._fatalError(exc, 'Fatal error: protocol.connectionMade() call failed.');
      }
      return false;
    }
    return true;
  }

  /** @internal Runs as a loop callback after connectionMade. */
  _startReading(): void {
    const state = this._state;
    if ((state & (CLOSING | PAUSED)) === 0 && (state & READS) !== 0) {
      if (this._pending !== null || (state & EOF_SEEN) !== 0) this._scheduleDrain();
      else (this._stream as Readable).resume();
    }
    const waiter = this._waiter;
    this._waiter = null;
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
  }

  // -------------------------------------------------------------- reading

  /** @internal Whether data may go straight to the protocol from a Node callback. */
  _canDeliverNow(): boolean {
    return this._pending === null && (this._state & (STARTED | PAUSED | CLOSING)) === STARTED && runningLoopOrNull() === this._loop;
  }

  /** @internal Node's 'data' event (and copied onread chunks). */
  _onData(chunk: Buffer | string | Uint8Array): void {
    if ((this._state & CLOSING) !== 0) return; // asyncio stops reading on close(): later bytes are never delivered
    const data = chunk instanceof Buffer ? chunk : typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this._canDeliverNow()) this._deliver(data);
    else this._queue(data);
  }

  /** @internal Holds `chunk` (and stops the stream) until a loop callback delivers it. */
  _queue(chunk: Buffer): void {
    (this._pending ??= []).push(chunk);
    this._readable?.pause();
    this._scheduleDrain();
  }

  /** @internal */
  _scheduleDrain(): void {
    if ((this._state & (DRAIN_SCHEDULED | STARTED | PAUSED | CLOSING)) !== STARTED) return;
    this._state |= DRAIN_SCHEDULED;
    this._loop._callSoon(callDrainPending as (...args: unknown[]) => void, [this]);
  }

  /** @internal Runs as a loop callback: delivers the held chunks (then EOF) in order. */
  _drainPending(): void {
    this._state &= ~DRAIN_SCHEDULED;
    let pending = this._pending;
    while (pending !== null && pending.length > 0 && (this._state & (PAUSED | CLOSING)) === 0) {
      const chunk = pending.shift() as Buffer;
      this._pending = pending.length === 0 ? null : pending;
      if (!this._deliver(chunk)) break;
      pending = this._pending;
    }
    if ((this._state & (PAUSED | CLOSING)) !== 0) return;
    if (this._pending !== null && this._pending.length > 0) {
      this._scheduleDrain();
      return;
    }
    this._pending = null;
    if ((this._state & EOF_SEEN) !== 0) {
      this._state &= ~EOF_SEEN;
      this._deliverEof();
    } else if ((this._state & STREAM_CLOSED) !== 0) {
      this._forceClose(null);
    } else {
      this._readable?.resume();
    }
  }

  /**
   * @internal Hands one chunk to the protocol: dataReceived, or copies into
   * getBuffer()/bufferUpdated() until consumed (`sizeHint`: what getBuffer is
   * asked for, default the bytes left; `length`: how much of `chunk` holds
   * data). Returns false if delivery must stop (paused, closed, protocol
   * switched); the unconsumed rest is then queued first in `_pending`.
   */
  _deliver(chunk: Buffer, sizeHint?: number, length = chunk.length): boolean {
    const protocol = this._protocol;
    if ((this._state & BUFFERED) === 0) {
      try {
        (protocol as ProtocolLike).dataReceived(length === chunk.length ? chunk : chunk.subarray(0, length));
      } catch (exc) {
        this._fatalError(exc, 'Fatal error: protocol.dataReceived() call failed.');
        return false;
      }
      return true;
    }
    let offset = 0;
    while (offset < length) {
      let n: number;
      try {
        const buf = (protocol as BufferedProtocolLike).getBuffer(sizeHint ?? length - offset);
        if (!(buf instanceof Uint8Array) || buf.byteLength === 0) {
          throw new RuntimeError('getBuffer() returned an empty buffer or not a Uint8Array');
        }
        n = chunk.copy(buf, 0, offset, length);
      } catch (exc) {
        this._fatalError(exc, 'Fatal error: protocol.getBuffer() call failed.');
        return false;
      }
      offset += n;
      try {
        (protocol as BufferedProtocolLike).bufferUpdated(n);
      } catch (exc) {
        this._fatalError(exc, 'Fatal error: protocol.bufferUpdated() call failed.');
        return false;
      }
      if (offset < length && ((this._state & (PAUSED | CLOSING)) !== 0 || this._protocol !== protocol)) {
        if ((this._state & CLOSING) === 0) {
          (this._pending ??= []).unshift(chunk.subarray(offset, length));
          this._readable?.pause();
          this._scheduleDrain();
        }
        return false;
      }
    }
    return true;
  }

  /** @internal Node's 'end' event: the peer sent EOF. */
  _onEnd(): void {
    if ((this._state & CLOSING) !== 0) return;
    if (this._canDeliverNow()) this._deliverEof();
    else {
      this._state |= EOF_SEEN;
      this._scheduleDrain();
    }
  }

  /** @internal Stream errors: ECONNRESET, EPIPE, ... (Node's `code` is kept). */
  _onError(err: Error): void {
    if ((this._state & LOST) !== 0) return;
    const syscall = (err as NodeJS.ErrnoException).syscall;
    const direction = syscall === 'write' || syscall === 'writev' || syscall === 'shutdown' ? 'write' : 'read';
    this._fatalError(err, `Fatal ${direction} error on ${this._kind} transport`);
  }

  /** @internal Node closed the stream on its own. */
  _onClose(): void {
    const state = this._state;
    if ((state & LOST) !== 0) return;
    if (this._pending !== null || (state & EOF_SEEN) !== 0) {
      // Bytes (or the EOF) still held for the protocol: deliver them first.
      this._state |= STREAM_CLOSED;
      return;
    }
    if ((state & (EOF_SENT | EOF_KEPT_OPEN)) === (EOF_SENT | EOF_KEPT_OPEN)) {
      // A socket whose both directions ended (Node auto-destroys it); as
      // asyncio, connectionLost waits for close().
      this._state |= STREAM_CLOSED;
      return;
    }
    if ((state & CLOSING) !== 0 && this._bufferSize() > 0) {
      this._forceClose(null);
      return;
    }
    if ((state & CLOSING) !== 0) {
      this._scheduleLost(null);
      return;
    }
    this._forceClose(null);
  }

  /** @internal Stops reading and drops held data for a close; false if already closing. */
  _stopReadingForClose(): boolean {
    if ((this._state & CLOSING) !== 0) return false;
    this._state = (this._state | CLOSING) & ~EOF_SEEN;
    this._pending = null;
    this._readable?.pause();
    return true;
  }

  /** @internal Whether the stream already closed by itself (a socket whose both directions ended). */
  get _streamClosed(): boolean {
    return (this._state & STREAM_CLOSED) !== 0;
  }

  // -------------------------------------------------------------- writing

  /** @internal Bytes Node still holds, a partly sent chunk whole: close() waits for them all. */
  _bufferSize(): number {
    if ((this._state & (LOST | WRITES)) !== WRITES) return 0;
    return (this._stream as Writable).writableLength;
  }

  /**
   * Bytes the kernel has not taken yet, as asyncio counts them. Node keeps a
   * partly sent chunk in `writableLength` whole until it completes; libuv's
   * `writeQueueSize` holds what is left of it.
   */
  getWriteBufferSize(): number {
    const size = this._bufferSize();
    if (size === 0) return 0;
    const stream = this._stream as Writable & { _handle?: { writeQueueSize?: unknown } | null; encrypted?: boolean };
    const state = (stream as { _writableState?: { writing?: boolean; writelen?: number } })._writableState;
    const leftInLibuv = stream._handle?.writeQueueSize;
    // TLS queues ciphertext in libuv, which does not match the plaintext counts.
    if (state?.writing !== true || typeof leftInLibuv !== 'number' || typeof state.writelen !== 'number' || stream.encrypted === true) return size;
    return size - state.writelen + leftInLibuv;
  }

  /** @internal Throws if `method` ('write', 'writelines') may not be called now (a socket after writeEof()). */
  _checkWritable(_method: string): void {}

  /**
   * @internal Hands the caller's bytes to Node without a copy, as asyncio
   * 3.12+ (and uvloop) keep a reference to the written buffer: the caller
   * must not change it until it has been flushed.
   */
  _send(bytes: Uint8Array): void {
    // The completion callback resumes the protocol at the low-water mark and
    // finishes close(); one closure per transport, made on the first write.
    (this._stream as Writable).write(bytes, (this._afterWriteCb ??= (err?: Error | null) => this._afterWrite(err)));
    this.maybePauseProtocol();
  }

  /** @internal A write to a lost (or closed) transport: counted, and logged past asyncio's threshold. */
  _lostWrite(warning: string): void {
    if (this._connLost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) logger.warn(warning);
    this._connLost++;
  }

  /** @internal Called by Node after each chunk was written: resumes the protocol at the low mark, finishes a pending close. */
  _afterWrite(err?: Error | null): void {
    if (err || (this._state & LOST) !== 0) return;
    if (this.protocolPaused) {
      if (runningLoopOrNull() === this._loop) this.maybeResumeProtocol();
      else this._loop._callSoon(callMaybeResume as (...args: unknown[]) => void, [this]);
    }
    if ((this._state & CLOSING) !== 0 && this._bufferSize() === 0) this._scheduleLost(null);
    const empty = this._emptyWaiter;
    if (empty !== null && !empty.done() && this._bufferSize() === 0) empty.setResult(undefined);
  }

  /** @internal Runs as a loop callback: a write completed outside the loop. */
  _resumeProtocolLater(): void {
    if ((this._state & LOST) === 0) this.maybeResumeProtocol();
  }

  /** @internal */
  get [RESOURCE_KIND](): string {
    return 'transport';
  }

  /** @internal The loop closed with this transport open: its stream must not keep the process alive. */
  [RELEASE_ON_LOOP_CLOSE](): void {
    (this._stream as { unref?: () => void }).unref?.();
  }

  /** @internal Pending chunks (for tests and debugging). */
  get _pendingChunks(): readonly Buffer[] {
    return this._pending ?? EMPTY_QUEUE;
  }

  override toString(): string {
    const state = (this._state & LOST) !== 0 ? 'closed' : (this._state & CLOSING) !== 0 ? 'closing' : 'open';
    return `<${this.constructor.name} ${state}>`;
  }
}

/** asyncio's `ConnectionError('Connection is closed by peer')` (Node's ECONNRESET code). */
export function connectionClosedError(cause?: Error | null): Error {
  const error = new Error('Connection is closed by peer', cause === undefined || cause === null ? undefined : { cause }) as NodeJS.ErrnoException;
  error.code = 'ECONNRESET';
  return error;
}

/** @internal A stream transport that writes: its own rule for which writes are sent, dropped or refused. */
export interface WritingStreamTransport extends StreamTransportBase {
  /** A write of validated `bytes`: sent, or dropped (zero bytes, or a lost/closed transport). */
  _writeBytes(bytes: Uint8Array): void;
}

/** @internal write(): validates, then the transport's rules. */
export function writeBytes(transport: WritingStreamTransport, data: BytesLike): void {
  const bytes = toBytes(data, 'write');
  transport._checkWritable('write');
  transport._writeBytes(bytes);
}

/** @internal writelines(): one writev through cork/uncork; every item validated first so none is half-written. */
export function writeLines(transport: WritingStreamTransport, list: Iterable<BytesLike>): void {
  if (list === null || typeof list !== 'object' || typeof (list as Iterable<BytesLike>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`writelines(): takes an iterable (an array) of bytes, got ${list === null ? 'null' : typeof list}`);
  }
  const items: Uint8Array[] = [];
  for (const item of list) items.push(toBytes(item, 'writelines'));
  transport._checkWritable('writelines');
  const writable = transport._stream as Writable;
  const live = items.length > 1 && !transport._lostScheduled;
  if (live) writable.cork();
  try {
    for (const item of items) transport._writeBytes(item);
  } finally {
    if (live) writable.uncork();
  }
}

/**
 * The public read methods (asyncio's `ReadTransport`) of the stream
 * transports that read: sockets and read pipes.
 */
export abstract class ReadableStreamTransport extends StreamTransportBase {
  /** Whether data is being delivered (not paused, not closing). */
  isReading(): boolean {
    return (this._state & (PAUSED | CLOSING)) === 0;
  }

  /** Stops delivering data until `resumeReading()`; no data reaches the protocol meanwhile. Harmless if already paused or closing. */
  pauseReading(this: object): void;
  pauseReading(): void {
    if ((this._state & (CLOSING | PAUSED)) !== 0) return;
    this._state |= PAUSED;
    this._readable?.pause();
  }

  /** Delivers data again, starting with anything held back. */
  resumeReading(this: object): void;
  resumeReading(): void {
    if ((this._state & (CLOSING | PAUSED)) !== PAUSED) return;
    this._state &= ~PAUSED;
    if ((this._state & STARTED) === 0) return;
    if (this._pending !== null || (this._state & EOF_SEEN) !== 0) this._scheduleDrain();
    else this._readable?.resume();
  }
}
