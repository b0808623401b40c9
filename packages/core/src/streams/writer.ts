/**
 * asyncio's StreamWriter and the protocol side of `drain()` (its
 * FlowControlMixin), shared by sockets and child processes.
 */
import { describeValue } from '../debug/describe.js';
import type { EventLoop } from '../loop/event-loop.js';
import type { Future } from '../futures/future.js';
import { sleep } from '../helpers/sleep.js';
import type { BytesLike, TransportExtraInfo, WriteTransport } from '../transports/transports.js';
import type { StreamReader } from './reader.js';

/** asyncio's ConnectionResetError: an Error named `ConnectionResetError` with `code` `'ECONNRESET'`. */
export function connectionResetError(message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.name = 'ConnectionResetError';
  error.code = 'ECONNRESET';
  return error;
}

/** The {@link DrainSource} method `drain()` awaits (asyncio's `_drain_helper`). */
export const DRAIN_HELPER: unique symbol = Symbol('@aioloop/core.drainHelper');
/** The {@link DrainSource} method `waitClosed()` awaits (asyncio's `_get_close_waiter`). */
export const CLOSE_WAITER: unique symbol = Symbol('@aioloop/core.closeWaiter');

/**
 * What a {@link StreamWriter} needs from its protocol (asyncio's private
 * `_drain_helper` / `_get_close_waiter` pair), keyed by symbols so that a
 * protocol of another package implements it without private names.
 * {@link FlowControl} provides the first; a protocol that hands out writers
 * adds the second.
 */
export interface DrainSource {
  /** Resolves when writing may continue; throws once the connection is lost. */
  [DRAIN_HELPER](): Promise<void>;
  /** A future done when `writer`'s transport closed (rejected with its error), or null if unknown. */
  [CLOSE_WAITER](writer: StreamWriter): Future<void> | null;
}

/**
 * asyncio's FlowControlMixin: tracks `pauseWriting`/`resumeWriting` and
 * connection loss for `drain()`. Stream protocols extend it; a subclass that
 * overrides one of its three callbacks calls `super`.
 */
export class FlowControl implements Pick<DrainSource, typeof DRAIN_HELPER> {
  private _paused = false;
  private _connectionLost = false;
  private readonly _drainWaiters = new Set<Future<void>>();

  constructor(
    /** The loop the drain waiters belong to. */
    protected readonly eventLoop: EventLoop,
  ) {}

  /** The transport's buffer is over its high-water mark: `drain()` waits. */
  pauseWriting(): void {
    this._paused = true;
  }

  /** The transport's buffer drained to its low-water mark: wakes `drain()`. */
  resumeWriting(): void {
    this._paused = false;
    for (const waiter of this._drainWaiters) if (!waiter.done()) waiter.setResult(undefined);
  }

  /** The connection is gone: wakes a waiting `drain()` (with `exc` if any). */
  connectionLost(exc: Error | null): void {
    this._connectionLost = true;
    if (!this._paused) return;
    for (const waiter of this._drainWaiters) {
      if (waiter.done()) continue;
      if (exc === null) waiter.setResult(undefined);
      else waiter._setException(exc);
    }
  }

  /** What `StreamWriter.drain()` awaits: at once unless paused; a ConnectionResetError once the connection is lost. */
  async [DRAIN_HELPER](): Promise<void> {
    if (this._connectionLost) throw connectionResetError('Connection lost');
    if (!this._paused) return;
    const waiter = this.eventLoop.createFuture<void>();
    this._drainWaiters.add(waiter);
    try {
      await waiter;
    } finally {
      this._drainWaiters.delete(waiter);
    }
  }
}

/**
 * Writes to a transport with flow control (asyncio.StreamWriter): `write()`
 * never blocks; `await drain()` waits while the transport's buffer is over its
 * high-water mark (the protocol was paused) and throws once the connection is lost.
 */
export class StreamWriter {
  /**
   * @param transport - the transport written to.
   * @param protocol - the protocol of that transport (a {@link StreamReaderProtocol} for sockets).
   * @param reader - the reader of the same connection, whose exception `drain()` reports, or null.
   * @param loop - the loop (default: the running loop when `drain()` needs one).
   */
  constructor(
    private readonly _transport: WriteTransport,
    private readonly _protocol: DrainSource,
    private readonly _reader: StreamReader | null,
    private readonly _loop: EventLoop | null = null,
  ) {
    if (_transport === null || typeof _transport !== 'object' || typeof (_transport as WriteTransport).write !== 'function') {
      throw new TypeError(`new StreamWriter(): transport must be a write transport, got ${describeValue(_transport)}`);
    }
    if (_protocol === null || typeof _protocol !== 'object' || typeof (_protocol as DrainSource)[DRAIN_HELPER] !== 'function') {
      throw new TypeError(`new StreamWriter(): protocol must be a DrainSource (a FlowControl subclass such as StreamReaderProtocol), got ${describeValue(_protocol)}`);
    }
  }

  /** The underlying transport. */
  get transport(): WriteTransport {
    return this._transport;
  }

  /** Queues `data` (bytes; strings are rejected). */
  write(data: BytesLike): void {
    this._transport.write(data);
  }

  /** Queues each item in order. */
  writelines(data: Iterable<BytesLike>): void {
    this._transport.writelines(data);
  }

  /** Closes the write side after the buffered data (the peer sees EOF). */
  writeEof(): void {
    this._transport.writeEof();
  }

  /** Whether `writeEof()` is supported (not over TLS). */
  canWriteEof(): boolean {
    return this._transport.canWriteEof();
  }

  /** Closes the transport (buffered data is flushed first). */
  close(): void {
    this._transport.close();
  }

  /** Whether the transport is closing or closed. */
  isClosing(): boolean {
    return this._transport.isClosing();
  }

  /** Resolves once the transport closed (rejects with its error, if any). */
  async waitClosed(): Promise<void> {
    const waiter = this._protocol[CLOSE_WAITER](this);
    if (waiter !== null) await waiter;
  }

  /** The transport's extra info (`'peername'`, `'sockname'`, `'sslcontext'`, ...; see {@link TransportExtraInfo} for the keys' types). */
  getExtraInfo<K extends keyof TransportExtraInfo>(name: K): TransportExtraInfo[K] | undefined;
  getExtraInfo<K extends keyof TransportExtraInfo, D>(name: K, defaultValue: D): TransportExtraInfo[K] | D;
  getExtraInfo<V = unknown>(name: string, defaultValue?: V): V | undefined;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return this._transport.getExtraInfo(name, defaultValue);
  }

  /**
   * Waits until the write buffer is under its high-water mark. Throws the
   * reader's exception if any, and a ConnectionResetError (`code` `'ECONNRESET'`)
   * once the connection is lost.
   */
  async drain(): Promise<void> {
    if (this._reader !== null) {
      const exc = this._reader.exception();
      if (exc !== null) throw exc;
    }
    if (this._transport.isClosing()) {
      // One iteration, so connectionLost runs first and drain() reports the loss.
      await (this._loop === null ? sleep(0) : sleepOn(this._loop));
    }
    await this._protocol[DRAIN_HELPER]();
  }

  toString(): string {
    const reader = this._reader === null ? '' : ` reader=${this._reader.toString()}`;
    return `<StreamWriter transport=${String(this._transport)}${reader}>`;
  }
}

/** `sleep(0)` on a given loop. */
function sleepOn(loop: EventLoop): Future<void> {
  const f = loop.createFuture<void>();
  loop.callSoon(() => {
    if (!f.done()) f.setResult(undefined);
  });
  return f;
}
