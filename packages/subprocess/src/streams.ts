/**
 * asyncio's StreamReader and StreamWriter, self-contained (they depend only on
 * `@aioloop/core`), used by the `Process` of `createSubprocessExec`.
 */
import {
  IncompleteReadError,
  LimitOverrunError,
  RuntimeError,
  describeValue,
  sleep,
  toBytes,
  type BytesLike,
  type EventLoop,
  type Future,
  type ReadTransport,
  type WriteTransport,
} from '@aioloop/core';
import { checkLoop, checkOptionKeys } from '@aioloop/core/internal';

/** The default buffer limit of a {@link StreamReader}: 64 KiB, as asyncio's `_DEFAULT_LIMIT`. */
export const DEFAULT_LIMIT = 64 * 1024;

/** asyncio's ConnectionResetError: an Error with `code` `'ECONNRESET'`. */
export function connectionResetError(message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.name = 'ConnectionResetError';
  error.code = 'ECONNRESET';
  return error;
}

/** Whether `error` is a broken pipe or reset connection (asyncio's BrokenPipeError / ConnectionResetError). */
export function isConnectionLost(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}

function checkLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) {
    throw new RangeError(`StreamReader: limit must be a whole number of bytes > 0, got ${String(limit)}`);
  }
  return limit;
}

/**
 * A byte buffer fed by a protocol and read by tasks (asyncio.StreamReader):
 * `read`, `readline`, `readuntil`, `readexactly`, async iteration by lines.
 * Reading pauses the transport while more than twice `limit` bytes are
 * buffered and resumes it at `limit`. One task may wait for data at a time.
 */
export class StreamReader {
  private readonly _loop: EventLoop;
  private readonly _limit: number;
  /** Buffered chunks (the first may be partly consumed: see _head). */
  private _chunks: Buffer[] = [];
  private _size = 0;
  private _eof = false;
  private _waiter: Future<void> | null = null;
  private _exception: unknown = null;
  private _transport: ReadTransport | null = null;
  private _paused = false;

  /** @param options.limit - the buffer limit in bytes (default 64 KiB); @param options.loop - the loop. */
  constructor(options: { loop: EventLoop; limit?: number }) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`StreamReader(): options must be an object such as { loop, limit: 65536 }, got ${describeValue(options)}`);
    }
    checkOptionKeys(options, 'StreamReader', ['loop', 'limit']);
    checkLoop(options.loop, 'StreamReader()');
    this._loop = options.loop;
    this._limit = checkLimit(options.limit ?? DEFAULT_LIMIT);
  }

  /** The buffer limit. */
  get limit(): number {
    return this._limit;
  }

  /** The exception set with `setException`, or null. */
  exception(): unknown {
    return this._exception;
  }

  /** Makes every waiting and later read throw `exc`. */
  setException(exc: unknown): void {
    this._exception = exc;
    const waiter = this._waiter;
    if (waiter !== null) {
      this._waiter = null;
      if (!waiter.cancelled()) waiter.setException(exc);
    }
  }

  /** The transport whose reading is paused and resumed for flow control. */
  setTransport(transport: ReadTransport): void {
    if (this._transport !== null) throw new RuntimeError('StreamReader: transport already set');
    this._transport = transport;
  }

  /** Marks the end of the stream. */
  feedEof(): void {
    this._eof = true;
    this._wakeupWaiter();
  }

  /** Whether the stream ended and every byte was read. */
  atEof(): boolean {
    return this._eof && this._size === 0;
  }

  /** Adds bytes to the buffer (from the protocol). */
  feedData(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) throw new TypeError(`feedData(): data must be a Buffer or Uint8Array, got ${describeValue(data)}`);
    if (this._eof) throw new RuntimeError('StreamReader: feedData() after feedEof()');
    if (data.length === 0) return;
    this._chunks.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this._size += data.length;
    this._wakeupWaiter();
    if (this._transport !== null && !this._paused && this._size > 2 * this._limit) {
      this._transport.pauseReading();
      this._paused = true;
    }
  }

  /** Bytes buffered and not read yet. */
  get bufferedSize(): number {
    return this._size;
  }

  private _wakeupWaiter(): void {
    const waiter = this._waiter;
    if (waiter !== null) {
      this._waiter = null;
      if (!waiter.cancelled()) waiter.setResult(undefined);
    }
  }

  private _maybeResumeTransport(): void {
    if (this._paused && this._size <= this._limit) {
      this._paused = false;
      this._transport?.resumeReading();
    }
  }

  private async _waitForData(method: string): Promise<void> {
    if (this._waiter !== null) {
      throw new RuntimeError(`${method}() called while another task is already waiting for incoming data`);
    }
    if (this._paused) {
      this._paused = false;
      this._transport?.resumeReading();
    }
    const waiter = this._loop.createFuture<void>();
    this._waiter = waiter;
    try {
      await waiter;
    } finally {
      if (this._waiter === waiter) this._waiter = null;
    }
  }

  /** One buffer of everything buffered (merging the chunks once). */
  private _flat(): Buffer {
    if (this._chunks.length > 1) this._chunks = [Buffer.concat(this._chunks, this._size)];
    return this._chunks[0] ?? Buffer.alloc(0);
  }

  /** Removes and returns the first `n` bytes (n <= size). */
  private _take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this._chunks[0] as Buffer;
    let out: Buffer;
    if (first.length === n) {
      this._chunks.shift();
      out = first;
    } else if (first.length > n) {
      out = Buffer.from(first.subarray(0, n));
      this._chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this._chunks[0] as Buffer;
        const want = n - filled;
        if (chunk.length <= want) {
          chunk.copy(out, filled);
          filled += chunk.length;
          this._chunks.shift();
        } else {
          chunk.copy(out, filled, 0, want);
          this._chunks[0] = chunk.subarray(want);
          filled += want;
        }
      }
    }
    this._size -= n;
    return out;
  }

  private _takeAll(): Buffer {
    return this._take(this._size);
  }

  /**
   * Reads up to `n` bytes (at least 1 unless at EOF, which gives an empty
   * buffer). `n` < 0 (the default) reads until EOF.
   */
  async read(n = -1): Promise<Buffer> {
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`read(): n must be a whole number, got ${String(n)}`);
    if (this._exception !== null) throw this._exception;
    if (n === 0) return Buffer.alloc(0);
    if (n < 0) {
      const blocks: Buffer[] = [];
      for (;;) {
        const block = await this.read(this._limit);
        if (block.length === 0) break;
        blocks.push(block);
      }
      return blocks.length === 1 ? (blocks[0] as Buffer) : Buffer.concat(blocks);
    }
    if (this._size === 0 && !this._eof) await this._waitForData('read');
    const data = this._take(Math.min(n, this._size));
    this._maybeResumeTransport();
    return data;
  }

  /**
   * Reads exactly `n` bytes; throws IncompleteReadError (with the bytes read
   * as `partial`) if the stream ends first.
   */
  async readexactly(n: number): Promise<Buffer> {
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`readexactly(): n must be a whole number, got ${String(n)}`);
    if (n < 0) throw new RangeError('readexactly(): size can not be less than zero');
    if (this._exception !== null) throw this._exception;
    if (n === 0) return Buffer.alloc(0);
    while (this._size < n) {
      if (this._eof) {
        const incomplete = this._takeAll();
        throw new IncompleteReadError(incomplete, n);
      }
      await this._waitForData('readexactly');
    }
    const data = this._take(n);
    this._maybeResumeTransport();
    return data;
  }

  /**
   * Reads up to and including `separator` (default `\n`). At EOF without it,
   * throws IncompleteReadError with what was buffered; when the limit is
   * reached first, throws LimitOverrunError and leaves the data buffered.
   */
  async readuntil(separator: Uint8Array | string = '\n'): Promise<Buffer> {
    const sep = typeof separator === 'string' ? Buffer.from(separator) : Buffer.from(toBytes(separator, 'readuntil'));
    const seplen = sep.length;
    if (seplen === 0) throw new RangeError('readuntil(): the separator must be at least one byte');
    if (this._exception !== null) throw this._exception;
    let offset = 0;
    let isep: number;
    for (;;) {
      const buflen = this._size;
      if (buflen - offset >= seplen) {
        isep = this._flat().indexOf(sep, offset);
        if (isep !== -1) break;
        offset = buflen + 1 - seplen;
        if (offset > this._limit) throw new LimitOverrunError('Separator is not found, and chunk exceed the limit', offset);
      }
      if (this._eof) {
        const chunk = this._takeAll();
        throw new IncompleteReadError(chunk, null);
      }
      await this._waitForData('readuntil');
    }
    if (isep > this._limit) throw new LimitOverrunError('Separator is found, but chunk is longer than limit', isep);
    const chunk = this._take(isep + seplen);
    this._maybeResumeTransport();
    return chunk;
  }

  /**
   * Reads one line ending in `\n` (included). At EOF returns what is left
   * (possibly empty). A line longer than the limit throws a RangeError (asyncio's
   * ValueError) whose `cause` is the LimitOverrunError; the line is dropped.
   */
  async readline(): Promise<Buffer> {
    try {
      return await this.readuntil('\n');
    } catch (error) {
      if (error instanceof IncompleteReadError) return Buffer.from(error.partial);
      if (error instanceof LimitOverrunError) {
        const flat = this._flat();
        if (flat.length > error.consumed && flat[error.consumed] === 0x0a) this._take(error.consumed + 1);
        else this._takeAll();
        this._maybeResumeTransport();
        throw new RangeError(error.message, { cause: error });
      }
      throw error;
    }
  }

  /** Iterates over the lines until EOF (asyncio's `async for line in reader`). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  toString(): string {
    const info = ['StreamReader'];
    if (this._size) info.push(`${this._size} bytes`);
    if (this._eof) info.push('eof');
    if (this._limit !== DEFAULT_LIMIT) info.push(`limit=${this._limit}`);
    if (this._waiter) info.push('waiter');
    if (this._exception) info.push(`exception=${String(this._exception)}`);
    if (this._paused) info.push('paused');
    return `<${info.join(' ')}>`;
  }
}

/** What a {@link StreamWriter} needs from its protocol: asyncio's FlowControlMixin. */
export interface DrainSource {
  /** Resolves when writing may continue; throws once the connection is lost. */
  _drainHelper(): Promise<void>;
  /** A future done when the writer's transport closed. */
  _getCloseWaiter(writer: StreamWriter): Future<void> | null;
}

/**
 * asyncio's FlowControlMixin: tracks `pauseWriting`/`resumeWriting` and
 * connection loss for `drain()`. Protocols extend it.
 */
export class FlowControl implements Pick<DrainSource, '_drainHelper'> {
  /** @internal */ _paused = false;
  /** @internal */ _connectionLost = false;
  private readonly _drainWaiters = new Set<Future<void>>();

  constructor(
    /** @internal */ readonly _loop: EventLoop,
  ) {}

  /** The transport's buffer is over its high-water mark. */
  pauseWriting(): void {
    this._paused = true;
  }

  /** The transport's buffer drained to its low-water mark: wakes `drain()`. */
  resumeWriting(): void {
    this._paused = false;
    for (const waiter of this._drainWaiters) if (!waiter.done()) waiter.setResult(undefined);
  }

  /** The connection is gone: wakes `drain()` (with `exc` if any). */
  connectionLost(exc: Error | null): void {
    this._connectionLost = true;
    if (!this._paused) return;
    for (const waiter of this._drainWaiters) {
      if (waiter.done()) continue;
      if (exc === null) waiter.setResult(undefined);
      else waiter.setException(exc);
    }
  }

  /** @internal */
  async _drainHelper(): Promise<void> {
    if (this._connectionLost) throw connectionResetError('Connection lost');
    if (!this._paused) return;
    const waiter = this._loop.createFuture<void>();
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
  constructor(
    private readonly _transport: WriteTransport,
    private readonly _protocol: DrainSource,
    private readonly _reader: StreamReader | null,
  ) {}

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

  /** Closes the write side after the buffered data (the reader sees EOF). */
  writeEof(): void {
    this._transport.writeEof();
  }

  /** Whether `writeEof()` is supported. */
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
    const waiter = this._protocol._getCloseWaiter(this);
    if (waiter !== null) await waiter;
  }

  /** The transport's extra info. */
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
      // Let connectionLost run first, so drain() reports the loss.
      await sleep(0);
    }
    await this._protocol._drainHelper();
  }

  toString(): string {
    return `<StreamWriter transport=${String(this._transport)}>`;
  }
}
