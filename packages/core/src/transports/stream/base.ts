import type { Readable, Writable } from 'node:stream';
import type { EventLoop } from '../../loop/event-loop.js';
import type { Future } from '../../futures/future.js';
import { _getRunningLoop } from '../../loop/thread-state.js';
import { logger } from '../../debug/logger.js';
import { RuntimeError } from '../../errors.js';
import { WriteFlowControl } from '../flow-control.js';
import { isBufferedProtocol, type BaseProtocolLike, type BufferedProtocolLike, type ProtocolLike } from '../protocols.js';
import { toBytes, type BaseTransport, type BytesLike } from '../transports.js';

/** After this many writes to a lost connection, each further write logs a warning (asyncio's LOG_THRESHOLD_FOR_CONNLOST_WRITES). */
export const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;

/**
 * What a transport tells the server that accepted its connection: `_attach`
 * when the transport is created, `_detach` after its `connectionLost` ran.
 * `Server.waitClosed()` and `closeClients()` are built on these.
 */
export interface TransportServer {
  /** A transport for an accepted connection was created. */
  _attach(transport: BaseTransport): void;
  /** That transport's `connectionLost` has run. */
  _detach(transport: BaseTransport): void;
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

type AnyProtocol = BaseProtocolLike<never>;
type ReadingProtocol = Partial<ProtocolLike> & Partial<BufferedProtocolLike> & AnyProtocol;

const EMPTY_QUEUE: readonly Buffer[] = [];

/** Whether `exc` is an operating-system error (asyncio's OSError): Node's system errors carry a string `code` and numeric `errno`. */
export function isSystemError(exc: unknown): exc is NodeJS.ErrnoException {
  return exc instanceof Error && typeof (exc as NodeJS.ErrnoException).code === 'string' && typeof (exc as NodeJS.ErrnoException).errno === 'number';
}

function checkProtocol(protocol: unknown, method: string): void {
  if (protocol === null || typeof protocol !== 'object' || typeof (protocol as AnyProtocol).connectionLost !== 'function') {
    throw new TypeError(`${method}: protocol must be a protocol object (with connectionMade/connectionLost/...), got ${protocol === null ? 'null' : typeof protocol}`);
  }
}

/**
 * The machinery shared by {@link StreamTransport},
 * {@link ReadPipeTransport} and {@link WritePipeTransport}: one Node stream,
 * one protocol, asyncio's closing rules. Subclasses expose the public methods;
 * members starting with `_` are internal.
 */
export abstract class StreamTransportBase {
  /** @internal */ readonly _loop: EventLoop;
  /** @internal */ _protocol: ReadingProtocol;
  /** @internal */ readonly _extra: Record<string, unknown>;
  /** @internal */ _closing = false;
  /** @internal asyncio's `_conn_lost`: 1 once connectionLost is scheduled, plus the writes dropped since. */
  _connLost = 0;
  /** @internal connectionLost has been scheduled (it runs once). */
  _lostScheduled = false;
  /** @internal */ readonly _flow: WriteFlowControl;
  /** @internal */ _server: TransportServer | null;
  /** @internal */ _waiter: Future<void> | null;
  /** @internal connectionMade has run (reading may start). */
  _started = false;
  /** @internal pauseReading() is in effect. */
  _paused = false;
  /** @internal The protocol takes getBuffer/bufferUpdated. */
  _buffered: boolean;
  /** @internal Chunks received but not yet delivered, in order (null: none). */
  _pending: Buffer[] | null = null;
  /** @internal A callback that drains `_pending` is queued. */
  _drainScheduled = false;
  /** @internal EOF arrived behind pending data. */
  _eofSeen = false;
  /** @internal writeEof() was called. */
  _eof = false;
  /** @internal eofReceived() returned true (transport kept open for writing). */
  _eofKeptOpen = false;
  /** @internal The Node stream closed by itself while the transport stays open (both directions ended). */
  _streamClosed = false;

  /** @internal */
  constructor(
    loop: EventLoop,
    protocol: AnyProtocol,
    options: StreamTransportOptions | undefined,
    private readonly _readable: Readable | null,
    private readonly _writable: Writable | null,
    private readonly _kind: 'socket' | 'pipe',
  ) {
    checkProtocol(protocol, `new ${new.target.name}()`);
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError(`new ${new.target.name}(): options must be an object such as { extra, waiter, server }`);
    }
    this._loop = loop;
    this._protocol = protocol as ReadingProtocol;
    this._buffered = isBufferedProtocol(protocol);
    this._extra = { ...(options?.extra ?? {}) };
    this._waiter = options?.waiter ?? null;
    this._server = options?.server ?? null;
    this._flow = new WriteFlowControl({
      loop,
      transport: this,
      getWriteBufferSize: () => this._bufferSize(),
      getProtocol: () => this._protocol,
    });
  }

  /** @internal Wires the stream and schedules connectionMade; subclasses call it at the end of their constructor. */
  _begin(): void {
    const readable = this._readable;
    const writable = this._writable;
    const stream = (readable ?? writable) as Readable & Writable;
    stream.on('error', this._onError);
    stream.on('close', this._onClose);
    if (readable !== null) {
      readable.pause();
      readable.on('data', this._onData);
      readable.on('end', this._onEnd);
    }
    this._server?._attach(this as unknown as BaseTransport);
    this._loop._callSoon(this._connectionMade, undefined);
  }

  // ------------------------------------------------------------- protocol

  /** Switches the protocol: data arriving later goes to the new one. */
  setProtocol(protocol: BaseProtocolLike<never>): void {
    checkProtocol(protocol, 'setProtocol()');
    this._protocol = protocol as ReadingProtocol;
    this._buffered = isBufferedProtocol(protocol);
  }

  /** The current protocol. */
  getProtocol(): BaseProtocolLike<never> {
    return this._protocol;
  }

  /** Whether the transport is closing or closed. */
  isClosing(): boolean {
    return this._closing;
  }

  /** The extra info `name` (asyncio's key names), or `defaultValue` when the transport has none. */
  getExtraInfo<V = unknown>(name: string, defaultValue?: V): unknown {
    return Object.prototype.hasOwnProperty.call(this._extra, name) ? this._extra[name] : defaultValue;
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
    if (this._lostScheduled) return;
    this._closing = true;
    this._pending = null;
    this._eofSeen = false;
    // Closing the stream now drops what Node still buffers, as asyncio clears its buffer.
    (this._readable ?? this._writable)?.destroy();
    this._scheduleLost(exc);
  }

  /** @internal Schedules connectionLost(exc), once. */
  _scheduleLost(exc: Error | null): void {
    if (this._lostScheduled) return;
    this._lostScheduled = true;
    this._connLost++;
    this._loop._callSoon(this._callConnectionLost, [exc]);
  }

  /** @internal Runs as a loop callback: connectionLost once, then the stream is closed and the server told. */
  readonly _callConnectionLost = (exc: Error | null): void => {
    const protocol = this._protocol;
    try {
      protocol.connectionLost(exc);
    } catch (error) {
      this._loop.callExceptionHandler({ message: 'protocol.connectionLost() call failed', exception: error, transport: this, protocol });
    } finally {
      (this._readable ?? this._writable)?.destroy();
      const server = this._server;
      this._server = null;
      server?._detach(this as unknown as BaseTransport);
    }
  };

  /** @internal Runs as a loop callback. */
  private readonly _connectionMade = (): void => {
    // Runs even if the transport was aborted before the first iteration: asyncio
    // calls connection_made before connection_lost in that case too.
    if (!this._callProtocolConnectionMade()) return;
    this._started = true;
    this._loop._callSoon(this._startReading, undefined);
  };

  private _callProtocolConnectionMade(): boolean {
    const waiter = this._waiter;
    try {
      this._protocol.connectionMade(this as never);
    } catch (exc) {
      this._waiter = null;
      if (waiter !== null && !waiter.done()) {
        waiter.setException(exc);
        this._forceClose(exc instanceof Error ? exc : new Error(String(exc)));
      } else {
        this._fatalError(exc, 'Fatal error: protocol.connectionMade() call failed.');
      }
      return false;
    }
    return true;
  }

  private readonly _startReading = (): void => {
    if (!this._closing && this._readable !== null && !this._paused) {
      if (this._pending !== null || this._eofSeen) this._scheduleDrain();
      else this._readable.resume();
    }
    const waiter = this._waiter;
    this._waiter = null;
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
  };

  // -------------------------------------------------------------- reading

  /** @internal Whether data may go straight to the protocol from a Node callback. */
  _canDeliverNow(): boolean {
    return this._pending === null && this._started && !this._paused && !this._closing && _getRunningLoop() === this._loop;
  }

  /** @internal Node's 'data' event (and copied onread chunks). */
  readonly _onData = (chunk: Buffer | string | Uint8Array): void => {
    if (this._closing) return; // asyncio stops reading on close(): later bytes are never delivered
    const data = chunk instanceof Buffer ? chunk : typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this._canDeliverNow()) this._deliver(data);
    else this._queue(data);
  };

  /** @internal Holds `chunk` (and stops the stream) until a loop callback delivers it. */
  _queue(chunk: Buffer): void {
    (this._pending ??= []).push(chunk);
    this._readable?.pause();
    this._scheduleDrain();
  }

  /** @internal */
  _scheduleDrain(): void {
    if (this._drainScheduled || !this._started || this._paused || this._closing) return;
    this._drainScheduled = true;
    this._loop._callSoon(this._drainPending, undefined);
  }

  private readonly _drainPending = (): void => {
    this._drainScheduled = false;
    let pending = this._pending;
    while (pending !== null && pending.length > 0 && !this._paused && !this._closing) {
      const chunk = pending.shift() as Buffer;
      this._pending = pending.length === 0 ? null : pending;
      if (!this._deliver(chunk)) break;
      pending = this._pending;
    }
    if (this._closing || this._paused) return;
    if (this._pending !== null && this._pending.length > 0) {
      this._scheduleDrain();
      return;
    }
    this._pending = null;
    if (this._eofSeen) {
      this._eofSeen = false;
      this._deliverEof();
    } else if (this._streamClosed) {
      this._forceClose(null);
    } else {
      this._readable?.resume();
    }
  };

  /**
   * @internal Hands one chunk to the protocol: dataReceived, or copies into
   * getBuffer()/bufferUpdated() until consumed. Returns false if delivery must
   * stop (paused, closed, protocol switched); the unconsumed rest is then
   * queued first in `_pending`.
   */
  _deliver(chunk: Buffer): boolean {
    const protocol = this._protocol;
    if (!this._buffered) {
      try {
        (protocol as ProtocolLike).dataReceived(chunk);
      } catch (exc) {
        this._fatalError(exc, 'Fatal error: protocol.dataReceived() call failed.');
        return false;
      }
      return true;
    }
    const length = chunk.length;
    let offset = 0;
    while (offset < length) {
      let n: number;
      try {
        const buf = (protocol as BufferedProtocolLike).getBuffer(length - offset);
        if (!(buf instanceof Uint8Array) || buf.byteLength === 0) {
          throw new RuntimeError('getBuffer() returned an empty buffer or not a Uint8Array');
        }
        n = chunk.copy(buf, 0, offset);
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
      if (offset < length && (this._paused || this._closing || this._protocol !== protocol)) {
        if (!this._closing) {
          (this._pending ??= []).unshift(chunk.subarray(offset));
          this._readable?.pause();
          this._scheduleDrain();
        }
        return false;
      }
    }
    return true;
  }

  /** @internal Node's 'end' event: the peer sent EOF. */
  private readonly _onEnd = (): void => {
    if (this._closing) return;
    if (this._canDeliverNow()) this._deliverEof();
    else {
      this._eofSeen = true;
      this._scheduleDrain();
    }
  };

  /** @internal The peer's EOF reaches the protocol (socket: eofReceived decides; pipe: then connectionLost). */
  _deliverEof(): void {
    if (this._closing) return;
    const protocol = this._protocol;
    if (this._kind === 'pipe') {
      this._closing = true;
      try {
        protocol.eofReceived?.();
      } catch (exc) {
        this._loop.callExceptionHandler({ message: 'protocol.eofReceived() call failed', exception: exc, transport: this, protocol });
      }
      this._scheduleLost(null);
      return;
    }
    let keepOpen: unknown;
    try {
      keepOpen = protocol.eofReceived?.();
    } catch (exc) {
      this._fatalError(exc, 'Fatal error: protocol.eofReceived() call failed.');
      return;
    }
    if (keepOpen === true) {
      this._eofKeptOpen = true;
    } else {
      this._closeSocket();
    }
  }

  /** @internal Stream errors: ECONNRESET, EPIPE, ... (Node's `code` is kept). */
  private readonly _onError = (err: Error): void => {
    if (this._lostScheduled) return;
    const syscall = (err as NodeJS.ErrnoException).syscall;
    const direction = syscall === 'write' || syscall === 'writev' || syscall === 'shutdown' ? 'write' : 'read';
    this._fatalError(err, `Fatal ${direction} error on ${this._kind} transport`);
  };

  /** @internal Node closed the stream on its own. */
  private readonly _onClose = (): void => {
    if (this._lostScheduled) return;
    if (this._pending !== null || this._eofSeen) {
      // Bytes (or the EOF) still held for the protocol: deliver them first.
      this._streamClosed = true;
      return;
    }
    if (this._kind === 'socket' && this._eof && this._eofKeptOpen) {
      // Both directions ended (Node auto-destroys such a socket); as asyncio,
      // connectionLost waits for close().
      this._streamClosed = true;
      return;
    }
    if (this._closing && this._bufferSize() > 0) {
      this._forceClose(null);
      return;
    }
    if (this._closing) {
      this._scheduleLost(null);
      return;
    }
    this._forceClose(null);
  };

  /** @internal Stops delivering: pauseReading(). */
  _pauseReading(): void {
    if (this._closing || this._paused) return;
    this._paused = true;
    this._readable?.pause();
  }

  /** @internal resumeReading(). */
  _resumeReading(): void {
    if (this._closing || !this._paused) return;
    this._paused = false;
    if (!this._started) return;
    if (this._pending !== null || this._eofSeen) this._scheduleDrain();
    else this._readable?.resume();
  }

  /** @internal isReading(). */
  _isReading(): boolean {
    return !this._paused && !this._closing;
  }

  // -------------------------------------------------------------- writing

  /** @internal Bytes queued in Node and not yet written to the OS. */
  _bufferSize(): number {
    if (this._lostScheduled || this._writable === null) return 0;
    return this._writable.writableLength;
  }

  /**
   * @internal write(): validates and hands the caller's bytes to Node without a
   * copy, as asyncio 3.12+ (and uvloop) keep a reference to the written
   * buffer: the caller must not change it until it has been flushed.
   */
  _write(data: BytesLike): void {
    const bytes = toBytes(data, 'write');
    if (this._kind === 'socket') {
      if (this._eof) throw new RuntimeError('Cannot call write() after writeEof()');
      if (bytes.byteLength === 0) return;
      if (this._lostScheduled) {
        this._lostWrite('socket.send() raised exception.');
        return;
      }
    } else {
      if (bytes.byteLength === 0) return;
      if (this._lostScheduled || this._closing) {
        this._lostWrite('pipe closed by peer or os.write(pipe, data) raised exception.');
        return;
      }
    }
    (this._writable as Writable).write(bytes, this._afterWrite);
    this._flow.maybePause();
  }

  /** @internal writelines(): one writev through cork/uncork; every item validated first so none is half-written. */
  _writelines(list: Iterable<BytesLike>): void {
    if (list === null || typeof list !== 'object' || typeof (list as Iterable<BytesLike>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`writelines(): takes an iterable (an array) of bytes, got ${list === null ? 'null' : typeof list}`);
    }
    const items: Uint8Array[] = [];
    for (const item of list) items.push(toBytes(item, 'writelines'));
    if (this._kind === 'socket' && this._eof) throw new RuntimeError('Cannot call writelines() after writeEof()');
    const writable = this._writable as Writable;
    const live = items.length > 1 && !this._lostScheduled && !(this._kind === 'pipe' && this._closing);
    if (live) writable.cork();
    try {
      for (const item of items) this._write(item);
    } finally {
      if (live) writable.uncork();
    }
  }

  private _lostWrite(warning: string): void {
    if (this._connLost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) logger.warn(warning);
    this._connLost++;
  }

  /** @internal Called by Node after each chunk was written: resumes the protocol at the low mark, finishes a pending close. */
  readonly _afterWrite = (err?: Error | null): void => {
    if (err || this._lostScheduled) return;
    if (this._flow.protocolPaused) {
      if (_getRunningLoop() === this._loop) this._flow.maybeResume();
      else this._loop._callSoon(this._maybeResume, undefined);
    }
    if (this._closing && this._bufferSize() === 0) this._scheduleLost(null);
  };

  private readonly _maybeResume = (): void => {
    if (!this._lostScheduled) this._flow.maybeResume();
  };

  /** @internal writeEof(). */
  _writeEof(): void {
    if (this._kind === 'pipe') {
      this._closePipeWriter();
      return;
    }
    if (this._closing || this._eof) return;
    this._eof = true;
    (this._writable as Writable).end();
  }

  /** @internal close() of a socket: stop reading, flush, then connectionLost(null). */
  _closeSocket(): void {
    if (this._closing) return;
    this._closing = true;
    this._pending = null;
    this._eofSeen = false;
    this._readable?.pause();
    if (this._streamClosed || this._bufferSize() === 0) this._scheduleLost(null);
    // else: _afterWrite finishes the close when Node's buffer drains.
  }

  /** @internal close() of a read pipe: immediate. */
  _closePipeReader(): void {
    if (this._closing) return;
    this._closing = true;
    this._pending = null;
    this._eofSeen = false;
    this._readable?.pause();
    this._scheduleLost(null);
  }

  /** @internal close()/writeEof() of a write pipe: flush, then connectionLost(null). */
  _closePipeWriter(): void {
    if (this._closing) return;
    this._closing = true;
    if (this._bufferSize() === 0) this._scheduleLost(null);
  }

  /** @internal abort(). */
  _abort(): void {
    this._forceClose(null);
  }

  /** @internal Pending chunks (for tests and debugging). */
  get _pendingChunks(): readonly Buffer[] {
    return this._pending ?? EMPTY_QUEUE;
  }

  toString(): string {
    const state = this._lostScheduled ? 'closed' : this._closing ? 'closing' : 'open';
    return `<${this.constructor.name} ${state}>`;
  }
}
