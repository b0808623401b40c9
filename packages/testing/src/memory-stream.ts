import {
  FlowControlTransport,
  RuntimeError,
  toBytes,
  type BufferedProtocolLike,
  type BytesLike,
  type EventLoop,
  type Future,
  type ProtocolLike,
  type Transport,
} from '@aioloop/core';
import { checkPositiveInt, describeValue } from './describe.js';
import { deliverBytes, writeEach } from './bytes.js';
import { callSoonUnchecked, checkLoop } from '@aioloop/core/internal';

/** What travels between the two ends of an in-memory stream. */
export type StreamSegment =
  | { readonly kind: 'data'; readonly bytes: Buffer }
  | { readonly kind: 'fin' }
  | { readonly kind: 'rst' };

/**
 * How segments get from one end to the other. The in-memory pair delivers them
 * in the next loop iteration; the simulated network adds latency, loss and
 * partitions. A link must deliver each direction's segments in order.
 */
export interface StreamLink {
  /** Carries `segment` from `from` to `from`'s peer, which receives it with `_arrive`. */
  send(from: MemoryStreamTransport, segment: StreamSegment): void;
  /** Tells `from`'s peer that `from` consumed `nbytes` (its receive window opens): call peer `_acked(nbytes)`. */
  ack(from: MemoryStreamTransport, nbytes: number): void;
}

/** Options for one end of an in-memory stream. */
export interface MemoryStreamOptions {
  /** Bytes the receiving side holds before the sender's writes queue up in its write buffer (the "kernel buffer"; default 65536). */
  bufferSize?: number;
  /** Largest chunk handed to one `dataReceived` call (default 65536). */
  maxReadSize?: number;
  /** Initial write-buffer high-water mark (default 64 KiB, as asyncio). */
  highWater?: number;
  /** Initial low-water mark (default high/4). */
  lowWater?: number;
  /** Answers of `getExtraInfo` (`'peername'`, `'sockname'`, ...). */
  extra?: Readonly<Record<string, unknown>>;
}

type AnyProtocol = ProtocolLike | BufferedProtocolLike;

/** An error like Node's system errors: `code`, `errno`, `syscall`. */
export function systemError(code: string, message: string, syscall = 'read'): Error {
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) throw new TypeError(`systemError(): code must be an errno name such as 'ECONNRESET', got ${describeValue(code)}`);
  if (typeof message !== 'string') throw new TypeError(`systemError(): message must be a string, got ${describeValue(message)}`);
  const errnos: Record<string, number> = { ECONNRESET: -104, ETIMEDOUT: -110, ECONNREFUSED: -111, EHOSTUNREACH: -113, EPIPE: -32, EADDRINUSE: -98 };
  return Object.assign(new Error(`${syscall} ${code}: ${message}`), { code, errno: errnos[code] ?? -1, syscall });
}

/**
 * One end of an in-memory byte stream: a full asyncio Transport with real
 * flow control. Writes go to the peer as soon as its receive buffer has room;
 * when it is full (the peer paused reading, or reads slower), they queue in
 * this end's write buffer and `pauseWriting()` fires at the high-water mark.
 * Supports half-close (`writeEof`), `close` (flush, then FIN), `abort` (drop
 * the buffer), and `setProtocol` mid-stream.
 */
export class MemoryStreamTransport extends FlowControlTransport<AnyProtocol> implements Transport {
  private readonly eventLoop: EventLoop;
  /** @internal */ _peer: MemoryStreamTransport | null = null;
  /** @internal Called after connectionLost (the simulated network forgets the connection). */
  _onLost: ((exc: Error | null) => void) | null = null;
  private readonly link: StreamLink;
  private readonly window: number;
  private readonly maxRead: number;
  private sendQueue: Buffer[] = [];
  private sendQueued = 0;
  private unacked = 0;
  private recvQueue: Buffer[] = [];
  private recvFin = false;
  private eofDelivered = false;
  private reading = true;
  private deliverScheduled = false;
  private closeAfterFlush = false;
  private eofRequested = false;
  private finSent = false;
  /** The socket is gone: connectionLost is scheduled or done. */
  private closed = false;
  private lostCalled = false;
  private writesAfterLoss = 0;

  constructor(loop: EventLoop, protocol: AnyProtocol, link: StreamLink, options: MemoryStreamOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object, got ${describeValue(options)}`);
    super(loop, protocol, options.extra);
    this.eventLoop = loop;
    this.link = link;
    this.window = checkPositiveInt(options.bufferSize ?? 65536, 'bufferSize');
    this.maxRead = checkPositiveInt(options.maxReadSize ?? 65536, 'maxReadSize');
    if (options.highWater !== undefined || options.lowWater !== undefined) this.setWriteBufferLimits(options.highWater, options.lowWater);
  }

  /** @internal Calls connectionMade; the pair/network does this as a loop callback. */
  _connectionMade(): void {
    this.protocol.connectionMade(this);
  }

  // ------------------------------------------------------------- writing

  write(data: BytesLike): void {
    const bytes = toBytes(data, 'write');
    if (this.eofRequested) throw new RuntimeError('Cannot call write() after writeEof()');
    if (bytes.byteLength === 0) return;
    if (this.closed) {
      // asyncio drops writes once the connection is lost. (While close() is
      // still flushing, asyncio's socket transports keep accepting: so do we.)
      this.writesAfterLoss++;
      return;
    }
    const copy = Buffer.from(bytes);
    this.sendQueue.push(copy);
    this.sendQueued += copy.byteLength;
    this.pump();
    this.maybePauseProtocol();
  }

  writelines(list: Iterable<BytesLike>): void {
    writeEach(this, list);
  }

  writeEof(): void {
    if (this.isClosing() || this.eofRequested) return;
    this.eofRequested = true;
    this.pump();
  }

  canWriteEof(): boolean {
    return true;
  }

  getWriteBufferSize(): number {
    return this.sendQueued;
  }

  // ------------------------------------------------------------- reading

  isReading(): boolean {
    return this.reading && !this.isClosing();
  }

  pauseReading(): void {
    if (this.isClosing() || !this.reading) return;
    this.reading = false;
  }

  resumeReading(): void {
    if (this.isClosing() || this.reading) return;
    this.reading = true;
    this.scheduleDeliver();
  }

  // ------------------------------------------------------------- closing

  close(): void {
    if (!this.beginClosing()) return;
    this.reading = false;
    this.dropReceived();
    if (this.sendQueued === 0) this.finish(null);
    else this.closeAfterFlush = true;
  }

  abort(): void {
    this.forceClose(null);
  }

  // ---------------------------------------------------------------- misc

  override toString(): string {
    const state = this.closed ? 'closed' : this.isClosing() ? 'closing' : 'open';
    return `<MemoryStreamTransport ${state} ${String(this.getExtraInfo('sockname', ''))} -> ${String(this.getExtraInfo('peername', ''))}>`;
  }

  // ------------------------------------------------------ link callbacks

  /** @internal A segment from the peer arrived (a loop callback). */
  _arrive(segment: StreamSegment): void {
    if (segment.kind === 'rst') {
      if (!this.closed) this.forceClose(systemError('ECONNRESET', 'connection reset by peer'), false);
      return;
    }
    if (this.closed) {
      // Data for a socket that no longer exists: the peer gets a reset.
      if (segment.kind === 'data') this.link.send(this, { kind: 'rst' });
      return;
    }
    if (segment.kind === 'fin') {
      this.recvFin = true;
    } else {
      if (this.isClosing() || this.eofDelivered) {
        // Not reading any more: the bytes are consumed and dropped.
        this.link.ack(this, segment.bytes.byteLength);
        return;
      }
      this.recvQueue.push(segment.bytes);
    }
    this.scheduleDeliver();
  }

  /** @internal The peer consumed `nbytes` of what we sent. */
  _acked(nbytes: number): void {
    this.unacked -= nbytes;
    if (this.unacked < 0) this.unacked = 0;
    this.pump();
  }

  /** @internal The network reset the connection (simulated RST or timeout). */
  _reset(exc: Error): void {
    if (!this.closed) this.forceClose(exc, false);
  }

  // ----------------------------------------------------------- internals

  private pump(): void {
    if (this.closed) return;
    while (this.sendQueued > 0 && this.unacked < this.window) {
      const head = this.sendQueue[0] as Buffer;
      const n = Math.min(head.byteLength, this.window - this.unacked);
      const chunk = n === head.byteLength ? head : head.subarray(0, n);
      if (n === head.byteLength) this.sendQueue.shift();
      else this.sendQueue[0] = head.subarray(n);
      this.sendQueued -= n;
      this.unacked += n;
      this.link.send(this, { kind: 'data', bytes: chunk });
    }
    if (this.sendQueued === 0) {
      if (this.closeAfterFlush) {
        this.closeAfterFlush = false;
        this.finish(null);
        return;
      }
      if (this.eofRequested && !this.finSent) {
        this.finSent = true;
        this.link.send(this, { kind: 'fin' });
      }
    }
    if (!this.closed) this.maybeResumeProtocol();
  }

  private scheduleDeliver(): void {
    if (this.deliverScheduled) return;
    this.deliverScheduled = true;
    callSoonUnchecked(this.eventLoop, () => {
      this.deliverScheduled = false;
      this.deliver();
    });
  }

  private deliver(): void {
    if (!this.reading || this.isClosing() || this.closed) return;
    if (this.recvQueue.length > 0) {
      const chunk = this.takeChunk();
      this.link.ack(this, chunk.byteLength);
      this.feed(chunk);
      if (this.recvQueue.length > 0 || this.recvFin) this.scheduleDeliver();
      return;
    }
    if (this.recvFin && !this.eofDelivered) {
      this.eofDelivered = true;
      let keepOpen: unknown;
      try {
        keepOpen = this.protocol.eofReceived();
      } catch (exception) {
        this.eventLoop.callExceptionHandler({ message: 'Fatal error: protocol.eofReceived() call failed.', exception, transport: this, protocol: this.protocol });
        this.forceClose(exception instanceof Error ? exception : new Error(String(exception)));
        return;
      }
      if (keepOpen !== true) this.close();
    }
  }

  /**
   * Discards received bytes nobody will read: they count as consumed, so the
   * peer's window opens and its later bytes meet this closed end (dropped, or a
   * reset) instead of waiting forever for room.
   */
  private dropReceived(): void {
    let dropped = 0;
    for (const chunk of this.recvQueue) dropped += chunk.byteLength;
    this.recvQueue = [];
    if (dropped > 0) this.link.ack(this, dropped);
  }

  private takeChunk(): Buffer {
    let size = 0;
    const parts: Buffer[] = [];
    while (this.recvQueue.length > 0 && size < this.maxRead) {
      const head = this.recvQueue[0] as Buffer;
      const n = Math.min(head.byteLength, this.maxRead - size);
      if (n === head.byteLength) {
        parts.push(head);
        this.recvQueue.shift();
      } else {
        parts.push(head.subarray(0, n));
        this.recvQueue[0] = head.subarray(n);
      }
      size += n;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
  }

  private feed(chunk: Buffer): void {
    const protocol = this.protocol;
    try {
      deliverBytes(protocol, chunk);
    } catch (exception) {
      this.eventLoop.callExceptionHandler({ message: 'Fatal error: protocol.dataReceived() call failed.', exception, transport: this, protocol });
      this.forceClose(exception instanceof Error ? exception : new Error(String(exception)));
    }
  }

  /** Closes now: drops both buffers; the peer gets FIN (or RST with `sendReset`). */
  private forceClose(exc: Error | null, notifyPeer = true): void {
    if (this.closed) return;
    this.beginClosing();
    this.reading = false;
    this.sendQueue = [];
    this.sendQueued = 0;
    this.dropReceived();
    this.closeAfterFlush = false;
    this.finish(exc, notifyPeer);
  }

  /** The socket closes: FIN to the peer (if not sent), connectionLost soon. */
  private finish(exc: Error | null, notifyPeer = true): void {
    if (this.closed) return;
    this.closed = true;
    this.beginClosing();
    if (notifyPeer && !this.finSent) {
      this.finSent = true;
      this.link.send(this, { kind: 'fin' });
    }
    callSoonUnchecked(this.eventLoop, () => {
      if (this.lostCalled) return;
      this.lostCalled = true;
      try {
        this.protocol.connectionLost(exc);
      } catch (exception) {
        this.eventLoop.callExceptionHandler({ message: 'protocol.connectionLost() call failed.', exception, transport: this, protocol: this.protocol });
      }
      this._onLost?.(exc);
    });
  }
}

/** Options for {@link createStreamPair}. */
export interface StreamPairOptions extends Omit<MemoryStreamOptions, 'extra'> {
  /** Names the two ends report as `sockname`/`peername` (default `['memory-a', 'memory-b']`). */
  names?: readonly [string, string];
}

/** A connected pair: each end's transport and protocol. */
export type StreamPair<A, B> = [a: [MemoryStreamTransport, A], b: [MemoryStreamTransport, B]];

/** The link of an in-memory pair: segments and window updates arrive in the next loop iteration, in order. */
export function immediateLink(loop: EventLoop): StreamLink {
  checkLoop(loop, 'immediateLink()');
  return {
    send(from, segment) {
      callSoonUnchecked(loop, () => from._peer?._arrive(segment));
    },
    ack(from, nbytes) {
      callSoonUnchecked(loop, () => from._peer?._acked(nbytes));
    },
  };
}

/**
 * Two connected in-memory stream transports, each with the protocol its
 * factory builds. Both `connectionMade` callbacks run in the next loop
 * iteration (a end first); the returned future resolves after them.
 * `bufferSize` sets how much the receiver holds before the sender's write
 * buffer grows, so a small one makes `pauseWriting()` fire early.
 */
export function createStreamPair<A extends AnyProtocol, B extends AnyProtocol>(
  loop: EventLoop,
  factoryA: () => A,
  factoryB: () => B,
  options: StreamPairOptions = {},
): Future<StreamPair<A, B>> {
  if (typeof factoryA !== 'function' || typeof factoryB !== 'function') {
    throw new TypeError(`createStreamPair(loop, factoryA, factoryB): both protocol factories must be functions, got ${describeValue(factoryA)} and ${describeValue(factoryB)}`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`createStreamPair(): options must be an object, got ${describeValue(options)}`);
  const [nameA, nameB] = options.names ?? ['memory-a', 'memory-b'];
  const link = immediateLink(loop);
  const protoA = factoryA();
  const protoB = factoryB();
  const { names: _names, ...rest } = options;
  const a = new MemoryStreamTransport(loop, protoA, link, { ...rest, extra: { sockname: nameA, peername: nameB } });
  const b = new MemoryStreamTransport(loop, protoB, link, { ...rest, extra: { sockname: nameB, peername: nameA } });
  a._peer = b;
  b._peer = a;
  const future = loop.createFuture<StreamPair<A, B>>();
  callSoonUnchecked(loop, () => a._connectionMade());
  callSoonUnchecked(loop, () => b._connectionMade());
  callSoonUnchecked(loop, () => {
    if (!future.done()) future.setResult([[a, protoA], [b, protoB]]);
  });
  return future;
}
