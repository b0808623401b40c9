/**
 * asyncio's `loop.sendfile(transport, file, offset, count, fallback=)`:
 * sends a file's bytes over a stream transport. Node exposes no sendfile(2)
 * to a socket, so the bytes are read (positioned reads on libuv's thread
 * pool) and written through the transport, waiting on its flow control
 * between blocks: asyncio's `_sendfile_fallback`.
 */
import { describeValue } from '@aioloop/core';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import {
  RuntimeError,
  SendfileNotAvailableError,
  StreamTransport,
  TlsTransport,
  wrapFuture,
  type AnyProtocolLike,
  type EventLoop,
  type Future,
  type Task,
} from '@aioloop/core';
import { writingPaused, checkLoop } from '@aioloop/core/internal';

/** asyncio's SENDFILE_FALLBACK_READBUFFER_SIZE: bytes read per block. */
export const SENDFILE_FALLBACK_READBUFFER_SIZE = 256 * 1024;

/** Options of {@link sendfile}. */
export interface SendfileOptions {
  /**
   * Whether reading and writing through the transport may be used where
   * zero-copy sendfile(2) is impossible (default true). With `false` such a
   * call rejects with SendfileNotAvailableError.
   */
  fallback?: boolean;
}

/** What `file` may be: an open `fs.promises.FileHandle` or a file descriptor. */
export type SendfileSource = FileHandle | number;

function fdOf(file: unknown): number {
  if (typeof file === 'number' && Number.isInteger(file) && file >= 0) return file;
  if (file !== null && typeof file === 'object' && typeof (file as FileHandle).fd === 'number' && typeof (file as FileHandle).read === 'function') {
    const fd = (file as FileHandle).fd;
    if (fd < 0) throw new TypeError('sendfile(): file is a closed FileHandle');
    return fd;
  }
  throw new TypeError(`sendfile(): file must be an open fs.promises.FileHandle or a file descriptor number, got ${describeValue(file)}`);
}

/**
 * Takes the transport's protocol over while the file is written (asyncio's
 * `_SendfileFallbackProtocol`): reading paused, pauseWriting/resumeWriting
 * drive the block loop, the caller's protocol restored at the end.
 */
class SendfileFallbackProtocol {
  private readonly original: AnyProtocolLike;
  private readonly resumeReadingAfter: boolean;
  private readonly resumeWritingAfter: boolean;
  private writeReady: Future<void> | null = null;
  private lost: Error | null = null;

  constructor(
    private readonly loop: EventLoop,
    private readonly transport: StreamTransport | TlsTransport,
  ) {
    this.original = transport.getProtocol();
    this.resumeReadingAfter = transport.isReading();
    this.resumeWritingAfter = writingPaused(transport);
    transport.pauseReading();
    transport.setProtocol(this as unknown as AnyProtocolLike);
    if (this.resumeWritingAfter) this.writeReady = loop.createFuture<void>();
  }

  connectionMade(): void {
    throw new RuntimeError('Invalid state: connection should have been established already.');
  }

  dataReceived(): void {
    throw new RuntimeError('Invalid state: reading should be paused');
  }

  eofReceived(): boolean {
    return false;
  }

  connectionLost(exc: Error | null): void {
    this.lost = exc ?? new Error('Connection closed by peer');
    const ready = this.writeReady;
    if (ready !== null && !ready.done()) ready.setException(this.lost);
    // The caller's protocol hears about the loss too.
    try {
      this.original.connectionLost(exc);
    } catch (error) {
      this.loop.callExceptionHandler({ message: 'protocol.connectionLost() call failed', exception: error, transport: this.transport, protocol: this.original });
    }
  }

  pauseWriting(): void {
    if (this.writeReady === null) this.writeReady = this.loop.createFuture<void>();
  }

  resumeWriting(): void {
    const ready = this.writeReady;
    this.writeReady = null;
    if (ready !== null && !ready.done()) ready.setResult(undefined);
  }

  /** Waits until the transport can take more (asyncio's drain). */
  async drain(): Promise<void> {
    if (this.lost !== null || this.transport.isClosing()) throw connectionClosed(this.lost);
    const ready = this.writeReady;
    if (ready !== null) await ready;
  }

  /** Puts the caller's protocol back (asyncio's restore). */
  restore(): void {
    if (this.lost !== null) return;
    this.transport.setProtocol(this.original);
    if (this.resumeReadingAfter) this.transport.resumeReading();
    const ready = this.writeReady;
    this.writeReady = null;
    if (ready !== null && !ready.done()) ready.cancel();
    // The caller's protocol was paused when the call began: the resume went to this helper.
    if (this.resumeWritingAfter) (this.original as { resumeWriting?: () => void }).resumeWriting?.();
  }
}

function connectionClosed(cause: Error | null): Error {
  const error = new Error('Connection closed by peer', { cause }) as NodeJS.ErrnoException;
  error.code = 'ECONNRESET';
  return error;
}

/** The next block's size: a full block, or what is left of `count`. */
function blockSize(limit: number | null, sent: number): number {
  return limit === null ? SENDFILE_FALLBACK_READBUFFER_SIZE : Math.min(limit - sent, SENDFILE_FALLBACK_READBUFFER_SIZE);
}

function readBlock(loop: EventLoop, fd: number, buffer: Buffer, position: number): Future<number> {
  return wrapFuture(
    new Promise<number>((resolve, reject) => {
      fs.read(fd, buffer, 0, buffer.length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
    }),
    loop,
  );
}

/**
 * asyncio's `loop.sendfile(transport, file, offset = 0, count = null, { fallback = true })`:
 * sends `count` bytes of `file` (all up to its end when null) starting at
 * `offset` over `transport` (a TCP, Unix or TLS stream transport) and
 * resolves with the number of bytes sent.
 *
 * Node has no sendfile(2) to a socket, so the bytes are read in 256 KiB
 * blocks (positioned reads off the loop thread) and written through the
 * transport, waiting for `resumeWriting` whenever the write buffer passes its
 * high-water mark: the transport's flow control bounds memory. The
 * transport's protocol is set aside meanwhile (reading paused) and put back
 * at the end, as asyncio does. With `fallback: false` this rejects with
 * {@link SendfileNotAvailableError}, since no zero-copy path exists here.
 *
 * File position: asyncio leaves a file object at `offset + sent`; a Node fd
 * or FileHandle is read with explicit positions, so its own position is not
 * moved (Node offers no lseek). Argument errors throw at the call with
 * asyncio's wording.
 */
export function sendfile(
  loop: EventLoop,
  transport: StreamTransport | TlsTransport,
  file: SendfileSource,
  offset = 0,
  count: number | null = null,
  options: SendfileOptions = {},
): Task<number> {
  checkLoop(loop, 'sendfile()');
  if (!(transport instanceof StreamTransport) && !(transport instanceof TlsTransport)) {
    throw new RuntimeError(`sendfile is not supported for transport ${describeValue(transport)}`);
  }
  const fd = fdOf(file);
  if (typeof offset !== 'number' || !Number.isInteger(offset)) throw new TypeError(`sendfile(): offset must be a non-negative integer (got ${describeValue(offset)})`);
  if (offset < 0) throw new RangeError(`sendfile(): offset must be a non-negative integer (got ${offset})`);
  if (count !== null && count !== undefined) {
    if (typeof count !== 'number' || !Number.isInteger(count)) throw new TypeError(`sendfile(): count must be a positive integer (got ${describeValue(count)})`);
    if (count <= 0) throw new RangeError(`sendfile(): count must be a positive integer (got ${count})`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`sendfile(): options must be an object such as { fallback: false }, got ${describeValue(options)}`);
  const fallback = options.fallback ?? true;
  if (typeof fallback !== 'boolean') throw new TypeError(`sendfile(): fallback must be a boolean, got ${describeValue(fallback)}`);
  if (transport.isClosing()) throw new RuntimeError('Transport is closing');
  if (!fallback) {
    const why = transport instanceof TlsTransport ? 'TLS encrypts in user space' : 'Node offers no sendfile(2) to a socket';
    return loop.createTask(async () => {
      throw new SendfileNotAvailableError(`fallback is disabled and native sendfile is not supported for transport ${transport.toString()} (${why})`);
    }, { name: 'sendfile' });
  }
  const limit = count ?? null;
  return loop.createTask(async () => {
    const helper = new SendfileFallbackProtocol(loop, transport);
    let sent = 0;
    try {
      // The next block is read while the transport drains the previous one.
      let want = blockSize(limit, sent);
      let block = want > 0 ? Buffer.allocUnsafe(want) : null;
      let reading = block === null ? null : readBlock(loop, fd, block, offset);
      while (reading !== null && block !== null) {
        const read = await reading;
        if (read === 0) break;
        const current = read === block.length ? block : block.subarray(0, read);
        // A fresh block each time: the transport keeps a reference until the bytes are flushed.
        want = blockSize(limit, sent + read);
        block = want > 0 ? Buffer.allocUnsafe(want) : null;
        reading = block === null ? null : readBlock(loop, fd, block, offset + sent + read);
        try {
          await helper.drain();
        } catch (error) {
          reading?.cancel();
          throw error;
        }
        transport.write(current);
        sent += read;
      }
      return sent;
    } finally {
      helper.restore();
    }
  }, { name: 'sendfile' });
}
