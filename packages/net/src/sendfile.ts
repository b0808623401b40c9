/**
 * asyncio's `loop.sendfile(transport, file, offset, count, fallback=)`:
 * sends a file's bytes over a stream transport.
 *
 * - Zero copy (asyncio's `_sendfile_native`) over plain TCP and Unix socket
 *   transports when @aioloop/native-sockets loads: once the transport's write
 *   buffer is empty and reading is paused, sendfile(2) runs on a duplicate of
 *   the socket's fd (polled for writability by its own libuv watcher: the fd
 *   itself belongs to Node's handle), which is closed afterwards.
 * - Otherwise (TLS, other streams, no native part, a file sendfile(2) cannot
 *   read) the bytes are read (positioned reads on libuv's thread pool) and
 *   written through the transport, waiting on its flow control between
 *   blocks: asyncio's `_sendfile_fallback`.
 */
import { describeValue } from '@aioloop/core';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import {
  RuntimeError,
  SendfileNotAvailableError,
  StreamTransport,
  TlsTransport,
  fileno,
  wrapFuture,
  type AnyProtocolLike,
  type EventLoop,
  type Future,
  type Task,
} from '@aioloop/core';
import { connectionClosedError, makeEmptyWaiter, resetEmptyWaiter, writingPaused } from '@aioloop/core/internal';
import { Socket as NetSocket } from 'node:net';
import { nativeBinding, nativeSocketsAvailable } from './native/binding.js';
import { sendfileNative } from './native/sock-methods.js';
import { Socket } from './native/socket.js';

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
    if (this.lost !== null || this.transport.isClosing()) throw connectionClosedError(this.lost);
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
 * Why zero-copy cannot run over `transport` (null: it can, the transport is a
 * socket transport over a Node socket and the native part loads).
 */
function zeroCopyUnavailable(transport: StreamTransport | TlsTransport): string | null {
  if (transport instanceof TlsTransport) return 'TLS encrypts in user space';
  if (!(transport.stream instanceof NetSocket)) return 'its stream is not a net.Socket';
  if (!nativeSocketsAvailable()) return 'Node offers no sendfile(2) to a socket and @aioloop/native-sockets is not installed';
  return null;
}

/**
 * asyncio's `_sendfile_native`: waits until the transport's write buffer is
 * empty (writes are refused meanwhile), pauses reading, and runs sendfile(2)
 * on a duplicate of the socket's fd, polled by a libuv watcher of its own.
 * The duplicate is closed, reading restored and writes allowed again however
 * it ends. Closing the transport meanwhile ends it with a ConnectionError-like
 * error; a failure before any byte was sent is SendfileNotAvailableError.
 */
async function sendfileZeroCopy(loop: EventLoop, transport: StreamTransport, fd: number, offset: number, count: number | null): Promise<number> {
  const socket = transport.stream as NetSocket;
  const resumeReading = transport.isReading();
  transport.pauseReading();
  const empty = makeEmptyWaiter(transport);
  let dup: Socket | null = null;
  let onClose: (() => void) | null = null;
  try {
    await empty;
    if (transport.isClosing()) throw connectionClosedError(null);
    const socketFd = fileno(socket);
    if (socketFd < 0) throw new SendfileNotAvailableError("Node does not expose the socket's file descriptor");
    dup = Socket.fromFd(socketFd);
    const sending = sendfileNative(loop, dup, fd, offset, count);
    // close() or abort() destroy Node's socket; the duplicate would keep the connection open.
    onClose = () => {
      if (!sending.done()) sending.setException(connectionClosedError(null));
    };
    socket.once('close', onClose);
    return await sending;
  } finally {
    if (onClose !== null) socket.off('close', onClose);
    dup?.close();
    resetEmptyWaiter(transport);
    if (resumeReading) transport.resumeReading();
  }
}

/** asyncio's `_sendfile_fallback`: blocks read off the loop thread and written through the transport's flow control. */
async function sendfileFallback(loop: EventLoop, transport: StreamTransport | TlsTransport, fd: number, offset: number, limit: number | null): Promise<number> {
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
    // asyncio leaves the file at offset + sent; only the native part can move an fd's position.
    if (sent > 0 && nativeSocketsAvailable()) nativeBinding('sendfile()').lseek(fd, offset + sent, 0);
  }
}

/**
 * asyncio's `loop.sendfile(transport, file, offset = 0, count = null, { fallback = true })`:
 * sends `count` bytes of `file` (all up to its end when null) starting at
 * `offset` over `transport` (a TCP, Unix or TLS stream transport) and
 * resolves with the number of bytes sent.
 *
 * Over a plain TCP or Unix socket transport, with @aioloop/native-sockets
 * installed, the kernel copies the file to the socket (sendfile(2), zero
 * copy): the call first waits until the transport's write buffer is empty,
 * pauses reading, and meanwhile `write()` raises RuntimeError('unable to
 * write; sendfile is in progress'), as in asyncio. Over TLS, without the
 * native part, or for a file sendfile(2) cannot read, the bytes are read in
 * 256 KiB blocks (positioned reads off the loop thread) and written through
 * the transport, waiting for `resumeWriting` whenever the write buffer passes
 * its high-water mark; the transport's protocol is set aside meanwhile
 * (reading paused) and put back at the end, as asyncio does. With
 * `fallback: false` a call that cannot go zero-copy rejects with
 * {@link SendfileNotAvailableError}.
 *
 * Closing the transport during a zero-copy send ends it: the task rejects
 * with an Error of code ECONNRESET ('Connection is closed by peer'). A peer
 * reset rejects with the system error (ECONNRESET or EPIPE). Cancelling the
 * task stops the send and restores reading.
 *
 * File position: as asyncio documents, `offset + sent` afterwards (also after
 * an error) where the native part is installed; without it the fallback reads
 * at explicit positions and Node offers no lseek, so the position is not
 * moved. Argument errors throw at the call with asyncio's wording.
 */
export function sendfile(
  loop: EventLoop,
  transport: StreamTransport | TlsTransport,
  file: SendfileSource,
  offset = 0,
  count: number | null = null,
  options: SendfileOptions = {},
): Task<number> {
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
  const limit = count ?? null;
  const why = zeroCopyUnavailable(transport);
  if (why !== null && !fallback) {
    return loop.createTask(async () => {
      throw new SendfileNotAvailableError(`fallback is disabled and native sendfile is not supported for transport ${transport.toString()} (${why})`);
    }, { name: 'sendfile' });
  }
  return loop.createTask(async () => {
    if (why === null) {
      try {
        return await sendfileZeroCopy(loop, transport as StreamTransport, fd, offset, limit);
      } catch (error) {
        if (!(error instanceof SendfileNotAvailableError) || !fallback) throw error;
      }
    }
    return sendfileFallback(loop, transport, fd, offset, limit);
  }, { name: 'sendfile' });
}
