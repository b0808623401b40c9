/**
 * asyncio's `loop.connect_read_pipe` / `loop.connect_write_pipe`: a protocol
 * on one end of a pipe, a FIFO, a socket or a character device, given as a
 * file descriptor or as a Node stream.
 */
import { fstatSync } from 'node:fs';
import fs from 'node:fs';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import tty from 'node:tty';
import { checkClosed, checkLoop } from '@aioloop/core/internal';
import {
  ReadPipeTransport,
  WritePipeTransport,
  type AnyProtocolLike, type BaseProtocolLike,
  type EventLoop,
  type Future,
} from '@aioloop/core';
import { describeValue } from '@aioloop/core';
import { watchReaderClose } from './native/pipe-watch.js';
import { checkFactory, type ProtocolFactory } from './protocol-factory.js';

/**
 * What `connectReadPipe` / `connectWritePipe` accept as the pipe: a file
 * descriptor number (a pipe, FIFO, socket or character device; the transport
 * takes ownership and closes it), or a Node stream (`process.stdin`, a child's
 * stdio, a `net.Socket`, an `fs` stream...) used as is.
 */
export type PipeLike = number | Readable | Writable;

type Direction = 'read' | 'write';

function isReadable(value: unknown): value is Readable {
  return value !== null && typeof value === 'object' && typeof (value as Readable).on === 'function' && typeof (value as Readable).pause === 'function' && typeof (value as Readable).read === 'function';
}

function isWritable(value: unknown): value is Writable {
  return value !== null && typeof value === 'object' && typeof (value as Writable).on === 'function' && typeof (value as Writable).write === 'function' && typeof (value as Writable).end === 'function';
}

/**
 * Opens a Node stream on `fd` for one direction. Pipes, FIFOs and sockets
 * become a non-blocking `net.Socket` (libuv polls them), TTYs a `tty` stream,
 * other character devices an `fs` stream. Regular files, directories and
 * block devices are refused, as asyncio refuses them ("Pipe transport is for
 * pipes/sockets only.").
 */
function streamForFd(fd: number, direction: Direction, method: string): Readable | Writable {
  let stat: fs.Stats;
  try {
    stat = fstatSync(fd);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new TypeError(`${method}: pipe ${fd} is not an open file descriptor (${code ?? String(error)})`);
  }
  if (stat.isFIFO() || stat.isSocket()) {
    return new net.Socket({ fd, readable: direction === 'read', writable: direction === 'write' });
  }
  if (stat.isCharacterDevice()) {
    if (tty.isatty(fd)) return direction === 'read' ? new tty.ReadStream(fd) : new tty.WriteStream(fd);
    return direction === 'read' ? fs.createReadStream('', { fd, autoClose: true }) : fs.createWriteStream('', { fd, autoClose: true });
  }
  throw new TypeError(`${method}: Pipe transport is for pipes/sockets only (fd ${fd} is ${stat.isFile() ? 'a regular file' : stat.isDirectory() ? 'a directory' : 'not a pipe'}; use an fs stream for files)`);
}

function toStream(pipe: unknown, direction: Direction, method: string): Readable | Writable {
  if (typeof pipe === 'number') {
    if (!Number.isInteger(pipe) || pipe < 0) throw new TypeError(`${method}: pipe must be a file descriptor (an integer >= 0) or a Node stream, got ${describeValue(pipe)}`);
    return streamForFd(pipe, direction, method);
  }
  if (direction === 'read' ? isReadable(pipe) : isWritable(pipe)) return pipe as Readable | Writable;
  throw new TypeError(
    `${method}: pipe must be a file descriptor number or a Node ${direction === 'read' ? 'Readable' : 'Writable'} stream (process.std${direction === 'read' ? 'in' : 'out'}, a child's std${direction === 'read' ? 'out' : 'in'}, an fs stream...), got ${describeValue(pipe)}`,
  );
}

function connectPipe<T extends ReadPipeTransport | WritePipeTransport, P extends AnyProtocolLike>(
  loop: EventLoop,
  factory: ProtocolFactory<P>,
  pipe: PipeLike,
  direction: Direction,
): Future<[T, P]> {
  const method = direction === 'read' ? 'connectReadPipe()' : 'connectWritePipe()';
  checkClosed(loop);
  checkFactory(factory, direction === 'read' ? 'connectReadPipe' : 'connectWritePipe');
  const stream = toStream(pipe, direction, method);
  const protocol = factory();
  if (protocol === null || typeof protocol !== 'object' || typeof (protocol as BaseProtocolLike).connectionMade !== 'function') {
    if (typeof pipe === 'number') (stream as Readable).destroy();
    throw new TypeError(`${method}: protocolFactory must return a protocol (with connectionMade/connectionLost/...), got ${describeValue(protocol)}`);
  }
  const waiter = loop.createFuture<void>();
  const result = loop.createFuture<[T, P]>();
  let transport: T;
  try {
    transport = (direction === 'read'
      ? new ReadPipeTransport(loop, stream as Readable, protocol, { waiter })
      : new WritePipeTransport(loop, stream as Writable, protocol, { waiter })) as T;
  } catch (error) {
    if (typeof pipe === 'number') (stream as Readable).destroy();
    throw error;
  }
  if (direction === 'write') watchReaderClose(loop, transport as WritePipeTransport, stream as Writable);
  waiter.addDoneCallback(() => {
    if (result.done()) return;
    if (waiter.cancelled()) {
      transport.close();
      result.cancel();
      return;
    }
    const exc = waiter.exception();
    if (exc !== null) {
      transport.close();
      result.setException(exc);
      return;
    }
    result.setResult([transport, protocol]);
  });
  result.addDoneCallback(() => {
    // Cancelled while waiting for connectionMade: as asyncio, close the transport.
    if (result.cancelled()) {
      waiter.cancel();
      transport.close();
    }
  });
  return result;
}

/**
 * Connects the read end of a pipe to a protocol (asyncio's
 * `loop.connect_read_pipe(protocol_factory, pipe)`). Resolves to
 * `[transport, protocol]` once `protocol.connectionMade(transport)` has run;
 * the transport delivers `dataReceived` (or getBuffer/bufferUpdated for a
 * BufferedProtocol), then `eofReceived()` and `connectionLost(null)` at end of
 * stream.
 *
 * `pipe` is a file descriptor (pipe, FIFO, socket or character device; the
 * transport owns and closes it) or a Node Readable stream. Argument errors
 * throw a TypeError at once.
 */
export function connectReadPipe<P extends AnyProtocolLike>(loop: EventLoop, protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[ReadPipeTransport, P]> {
  checkLoop(loop, 'connectReadPipe()');
  return connectPipe<ReadPipeTransport, P>(loop, protocolFactory, pipe, 'read');
}

/**
 * Connects the write end of a pipe to a protocol (asyncio's
 * `loop.connect_write_pipe(protocol_factory, pipe)`). Resolves to
 * `[transport, protocol]` once `protocol.connectionMade(transport)` has run.
 * The transport writes with flow control; `close()`/`writeEof()` flush and
 * close the pipe (the reader sees EOF). When the reader closes its end
 * (pipes, FIFOs and sockets, with @aioloop/native-sockets installed) the
 * transport notices at once, as asyncio's does: `connectionLost(null)` if
 * nothing was buffered, else `connectionLost(err)` with `err.code === 'EPIPE'`
 * (without the native package: at the next write).
 *
 * `pipe` is a file descriptor (pipe, FIFO, socket or character device; the
 * transport owns and closes it) or a Node Writable stream. Argument errors
 * throw a TypeError at once.
 */
export function connectWritePipe<P extends AnyProtocolLike>(loop: EventLoop, protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[WritePipeTransport, P]> {
  checkLoop(loop, 'connectWritePipe()');
  return connectPipe<WritePipeTransport, P>(loop, protocolFactory, pipe, 'write');
}
