/**
 * asyncio's StreamReader: a byte buffer fed by a protocol (a socket's
 * StreamReaderProtocol, a child's pipes) and read by tasks.
 */
import { IncompleteReadError, LimitOverrunError, RuntimeError } from '../errors.js';
import { describeValue } from '../debug/describe.js';
import type { EventLoop } from '../loop/event-loop.js';
import { runningLoopOrNull } from '../loop/thread-state.js';
import type { Future } from '../futures/future.js';
import { NotImplementedError } from '../transports/stream/tls-transport.js';
import { toBytes, type BytesLike, type ReadTransport } from '../transports/transports.js';

/** The default buffer limit of a {@link StreamReader}: 64 KiB, as asyncio's `_DEFAULT_LIMIT`. */
export const DEFAULT_LIMIT = 64 * 1024;

/** What {@link StreamReader.readuntil} accepts as one separator: bytes, or a string (its UTF-8 bytes). */
export type Separator = BytesLike | string;

/** Options of `new StreamReader()` (asyncio's `StreamReader(limit=..., loop=...)`). */
export interface StreamReaderOptions {
  /** The loop its read methods wait on (default: the running loop). */
  loop?: EventLoop;
  /** The buffer limit in bytes (default 64 KiB): the longest line `readline` returns; reading pauses past twice it. */
  limit?: number;
}

/** Throws a RangeError naming `where` unless `limit` is a whole number > 0. */
function checkStreamLimit(limit: unknown, where: string): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) {
    throw new RangeError(`${where}: limit must be a whole number of bytes > 0, got ${describeValue(limit)}`);
  }
  return limit;
}

function separatorBytes(separator: unknown): Buffer {
  if (typeof separator === 'string') return Buffer.from(separator);
  try {
    const bytes = toBytes(separator, 'readuntil');
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch {
    throw new TypeError(`readuntil(): separator must be bytes (a Uint8Array), a string, or an array of them, got ${describeValue(separator)}`);
  }
}

/**
 * A byte buffer fed by a protocol and read by tasks (asyncio.StreamReader):
 * `read`, `readline`, `readuntil`, `readexactly`, async iteration by lines.
 * Reading pauses the transport while more than twice `limit` bytes are
 * buffered and resumes it at `limit`. One task may wait for data at a time.
 */
export class StreamReader implements AsyncIterable<Buffer> {
  private readonly _loop: EventLoop;
  private readonly _limit: number;
  /** Buffered chunks, oldest first. */
  private _chunks: Buffer[] = [];
  private _size = 0;
  private _eof = false;
  private _waiter: Future<void> | null = null;
  private _exception: unknown = null;
  private _transport: ReadTransport | null = null;
  private _paused = false;

  /**
   * Throws a RangeError for a `limit` that is not a whole number > 0 and a
   * RuntimeError without `loop` outside a running loop.
   */
  constructor(options: StreamReaderOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`new StreamReader(): options must be an object such as { limit: 65536 }, got ${describeValue(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'loop' && key !== 'limit') throw new TypeError(`new StreamReader(): unknown option ${JSON.stringify(key)}; accepted: loop, limit`);
    }
    const loop = options.loop ?? runningLoopOrNull();
    if (loop === null) throw new RuntimeError('new StreamReader(): no running event loop; pass { loop }');
    if (typeof (loop as EventLoop).createFuture !== 'function') {
      throw new TypeError(`new StreamReader(): loop must be an EventLoop, got ${describeValue(loop)}`);
    }
    this._loop = loop;
    this._limit = checkStreamLimit(options.limit ?? DEFAULT_LIMIT, 'new StreamReader()');
  }

  /** The buffer limit. */
  get limit(): number {
    return this._limit;
  }

  /** @internal The loop (the default of a StreamReaderProtocol's). */
  get _eventLoop(): EventLoop {
    return this._loop;
  }

  /** The exception set with `setException`, or null. */
  exception(): unknown {
    return this._exception;
  }

  /** Makes the waiting read and every later read throw `exc`. */
  setException(exc: unknown): void {
    this._exception = exc;
    const waiter = this._waiter;
    if (waiter !== null) {
      this._waiter = null;
      if (!waiter.cancelled()) waiter._setException(exc);
    }
  }

  /** The transport whose reading is paused and resumed for flow control (set once). */
  setTransport(transport: ReadTransport): void {
    if (this._transport !== null) throw new RuntimeError('StreamReader.setTransport(): transport already set');
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

  /** Adds bytes to the buffer (from the protocol); the reader keeps `data` without copying it. */
  feedData(data: Uint8Array): void {
    if (this._eof) throw new RuntimeError('StreamReader.feedData() after feedEof()');
    if (data.length === 0) return;
    this._chunks.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this._size += data.length;
    this._wakeupWaiter();
    if (this._transport !== null && !this._paused && this._size > 2 * this._limit) {
      try {
        this._transport.pauseReading();
        this._paused = true;
      } catch (error) {
        // A transport that cannot pause: buffer everything, and stop asking.
        if (!(error instanceof NotImplementedError)) throw error;
        this._transport = null;
      }
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
    // Waiting while paused would never end (readexactly(n) with n > limit needs this).
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
   * Reads up to `n` bytes: at least 1 unless at EOF, which gives an empty
   * buffer. `n` < 0 (the default) reads until EOF. Not bounded by `limit`.
   */
  async read(n = -1): Promise<Buffer> {
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`StreamReader.read(): n must be a whole number, got ${describeValue(n)}`);
    if (this._exception !== null) throw this._exception;
    if (n === 0) return Buffer.alloc(0);
    if (n < 0) {
      // In blocks of `limit`, so a paused transport is resumed as the buffer empties.
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
   * as `partial`, which are consumed) if the stream ends first.
   */
  async readexactly(n: number): Promise<Buffer> {
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`StreamReader.readexactly(): n must be a whole number, got ${describeValue(n)}`);
    if (n < 0) throw new RangeError('StreamReader.readexactly(): size can not be less than zero');
    if (this._exception !== null) throw this._exception;
    if (n === 0) return Buffer.alloc(0);
    while (this._size < n) {
      if (this._eof) throw new IncompleteReadError(this._takeAll(), n);
      await this._waitForData('readexactly');
    }
    const data = this._take(n);
    this._maybeResumeTransport();
    return data;
  }

  /**
   * Reads up to and including a separator (default `\n`). Given an array of
   * separators (Python 3.13's tuple), it stops at the match that ends first.
   * At EOF without one, throws IncompleteReadError with what was buffered
   * (consumed); when `limit` bytes come before a separator, throws
   * LimitOverrunError and leaves the data buffered, to be read otherwise.
   */
  async readuntil(separator: Separator | readonly Separator[] = '\n'): Promise<Buffer> {
    const seps = Array.isArray(separator) ? (separator as readonly unknown[]).map(separatorBytes) : [separatorBytes(separator)];
    if (seps.length === 0) throw new RangeError('StreamReader.readuntil(): the separator array must hold at least one separator');
    seps.sort((a, b) => a.length - b.length);
    const minSeplen = (seps[0] as Buffer).length;
    const maxSeplen = (seps[seps.length - 1] as Buffer).length;
    if (minSeplen === 0) throw new RangeError('StreamReader.readuntil(): a separator must be at least one byte');
    if (this._exception !== null) throw this._exception;
    // `offset`: how far from the start the buffer is known to hold no separator.
    let offset = 0;
    let matchStart = -1;
    let matchEnd = -1;
    for (;;) {
      const buflen = this._size;
      if (buflen - offset >= minSeplen) {
        const flat = this._flat();
        for (const sep of seps) {
          const isep = flat.indexOf(sep, offset);
          if (isep !== -1 && (matchEnd === -1 || isep + sep.length < matchEnd)) {
            matchStart = isep;
            matchEnd = isep + sep.length;
          }
        }
        if (matchEnd !== -1) break;
        offset = Math.max(0, buflen + 1 - maxSeplen);
        if (offset > this._limit) throw new LimitOverrunError('Separator is not found, and chunk exceed the limit', offset);
      }
      // A last chunk may have completed a separator: the buffer is searched before EOF ends the read.
      if (this._eof) throw new IncompleteReadError(this._takeAll(), null);
      await this._waitForData('readuntil');
    }
    if (matchStart > this._limit) throw new LimitOverrunError('Separator is found, but chunk is longer than limit', matchStart);
    const chunk = this._take(matchEnd);
    this._maybeResumeTransport();
    return chunk;
  }

  /**
   * Reads one line ending in `\n` (included). At EOF returns what is left
   * (possibly empty). A line longer than the limit throws a RangeError (asyncio's
   * ValueError) whose `cause` is the LimitOverrunError; that line (or, without
   * a newline in the buffer, the whole buffer) is dropped.
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
    if (this._transport) info.push(`transport=${String(this._transport)}`);
    if (this._paused) info.push('paused');
    return `<${info.join(' ')}>`;
  }
}
