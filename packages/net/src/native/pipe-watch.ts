/**
 * A write pipe notices its reader going away (asyncio's
 * `_UnixWritePipeTransport` watches its fd for readability): a write end
 * becomes "readable" (POLLERR/POLLHUP for a pipe, data or EOF for a socket)
 * only when the other side closed. Nothing buffered: `connectionLost(null)`;
 * data pending: a broken pipe (`EPIPE`).
 *
 * Node's pipe handle owns the fd and polls it for writes, and libuv allows one
 * poller per fd number: the watch polls a duplicate. The duplicate keeps the
 * write end open, so it is closed as soon as the stream finishes or closes,
 * else the reader would not see EOF.
 */
import type net from 'node:net';
import type { Writable } from 'node:stream';
import type { EventLoop, WritePipeTransport } from '@aioloop/core';
import { callSoonUnchecked, fileno, onLoopClose } from '@aioloop/core/internal';
import { nativeBinding, nativeSocketsAvailable } from './binding.js';
import { systemError } from './errors.js';

const S_IFMT = 0o170000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const UV_READABLE = 1;
const EPIPE = -32;

const stopsByLoop = new WeakMap<EventLoop, Set<() => void>>();

/** Starts the watch for `transport` over `stream` (a pipe or socket with an fd); does nothing without the native package. */
export function watchReaderClose(loop: EventLoop, transport: WritePipeTransport, stream: Writable): void {
  const fd = fileno(stream as net.Socket);
  if (fd < 0 || !nativeSocketsAvailable()) return;
  const b = nativeBinding('connectWritePipe');
  const st = b.fdstat(fd);
  if (typeof st === 'number' || ((st[2] & S_IFMT) !== S_IFIFO && (st[2] & S_IFMT) !== S_IFSOCK)) return;
  const dup = b.dup(fd);
  if (dup < 0) return;
  let stops = stopsByLoop.get(loop);
  if (stops === undefined) stopsByLoop.set(loop, (stops = new Set()));
  const stop = (): void => {
    poll.close();
    stops.delete(stop);
    stream.off('finish', stop);
    stream.off('close', stop);
  };
  const readerClosed = (): void => {
    if (transport.getWriteBufferSize() > 0) {
      // Through the stream's own error path: the transport reports it as for a failed write.
      stream.destroy(systemError(EPIPE, 'write'));
    } else {
      transport.abort();
    }
  };
  // As asyncio's reader callback: a loop callback, after those already scheduled (a write that fails first reports EPIPE itself).
  const onReadable = (): void => {
    stop();
    if (!loop.isClosed()) callSoonUnchecked(loop, readerClosed);
  };
  let poll: InstanceType<typeof b.Poll>;
  try {
    poll = new b.Poll(dup, onReadable, true);
  } catch {
    b.close(dup);
    return;
  }
  if (poll.start(UV_READABLE) !== 0) {
    poll.close();
    return;
  }
  stops.add(stop);
  stream.once('finish', stop);
  stream.once('close', stop);
}

onLoopClose((loop) => {
  const stops = stopsByLoop.get(loop);
  if (stops === undefined) return;
  for (const stop of [...stops]) stop();
});
