import { describeValue } from '../debug/describe.js';
import type { BaseTransport, DatagramTransport, SubprocessTransport, Transport } from './transports.js';

/**
 * The callbacks every protocol has (asyncio.BaseProtocol). Transports call them
 * as loop callbacks: `getRunningLoop()` works inside, and an exception thrown
 * from one goes to the loop's exception handler.
 */
export interface BaseProtocolLike<T extends BaseTransport = BaseTransport> {
  /** The connection is made; `transport` is how the protocol writes and closes. */
  connectionMade(transport: T): void;
  /** The connection is lost or closed: `exc` is null for a normal close. Called exactly once. */
  connectionLost(exc: Error | null): void;
  /** The transport's write buffer went over its high-water mark. */
  pauseWriting(): void;
  /** The transport's write buffer drained to its low-water mark. */
  resumeWriting(): void;
}

/**
 * Any protocol, whatever transport its `connectionMade` expects: what a
 * transport accepts in `setProtocol()` and returns from `getProtocol()`.
 * (`BaseProtocolLike<never>`: a protocol for some transport type is one for
 * the bottom type too.)
 */
export type AnyProtocolLike = BaseProtocolLike<never>;

/** A streaming protocol (asyncio.Protocol). */
export interface ProtocolLike extends BaseProtocolLike<Transport> {
  /** Bytes arrived, in order. The buffer is the protocol's to keep. */
  dataReceived(data: Buffer): void;
  /**
   * The peer sent EOF (half-close). Return true to keep the transport open for
   * writing; anything else closes it.
   */
  eofReceived(): boolean | void;
}

/** A receiving protocol that supplies its own buffers (asyncio.BufferedProtocol). */
export interface BufferedProtocolLike extends BaseProtocolLike<Transport> {
  /** Returns a buffer to read into; at least 1 byte, ideally `sizeHint` bytes (-1: any size). */
  getBuffer(sizeHint: number): Uint8Array;
  /** `nbytes` bytes were written into the buffer returned by the last `getBuffer`. */
  bufferUpdated(nbytes: number): void;
  /** As {@link ProtocolLike.eofReceived}. */
  eofReceived(): boolean | void;
  /**
   * Opt-in zero-copy receive on sockets; default off.
   *
   * Off (asyncio's order): each read lands in a buffer the transport owns and
   * is copied at once into the buffer `getBuffer(-1)` returns at that moment,
   * then `bufferUpdated(n)` — one copy, no allocation per read, and the
   * protocol may share one buffer between connections or move its free region
   * between reads.
   *
   * On: Node reads straight into the protocol's buffer, so the transport must
   * ask `getBuffer(-1)` for the *next* read's buffer right after each read
   * (Node needs it before the bytes arrive, unlike asyncio which asks just
   * before each read). Until the matching `bufferUpdated()`, the region
   * returned belongs to the socket: do not write, move, reuse or share it with
   * another connection.
   */
  readonly zeroCopyReads?: boolean;
}

/** An address as datagram transports report it: `[host, port]` for IP, a path for Unix sockets. */
export type DatagramAddress = readonly [host: string, port: number, ...rest: unknown[]] | string;

/** A datagram protocol (asyncio.DatagramProtocol). */
export interface DatagramProtocolLike extends BaseProtocolLike<DatagramTransport> {
  /** A datagram arrived from `addr`. */
  datagramReceived(data: Buffer, addr: DatagramAddress): void;
  /** A send or receive failed (ICMP error, ...); the transport stays open. */
  errorReceived(exc: Error): void;
}

/** A protocol for a child process (asyncio.SubprocessProtocol). */
export interface SubprocessProtocolLike extends BaseProtocolLike<SubprocessTransport> {
  /** The child wrote `data` to its stdout (fd 1) or stderr (fd 2). */
  pipeDataReceived(fd: number, data: Buffer): void;
  /** One of the child's pipes closed (`exc` null for a normal close). */
  pipeConnectionLost(fd: number, exc: Error | null): void;
  /** The child exited. */
  processExited(): void;
}

/** Base class with asyncio's no-op defaults: override what you need. */
export class BaseProtocol<T extends BaseTransport = BaseTransport> implements BaseProtocolLike<T> {
  connectionMade(_transport: T): void {}
  connectionLost(_exc: Error | null): void {}
  pauseWriting(): void {}
  resumeWriting(): void {}
}

/** Base class for streaming protocols (asyncio.Protocol): override `dataReceived` and friends. */
export class Protocol extends BaseProtocol<Transport> implements ProtocolLike {
  dataReceived(_data: Buffer): void {}
  eofReceived(): boolean | void {
    return undefined;
  }
}

/** Base class for buffered protocols (asyncio.BufferedProtocol). */
export abstract class BufferedProtocol extends BaseProtocol<Transport> implements BufferedProtocolLike {
  /** See {@link BufferedProtocolLike.zeroCopyReads}: set to true in a subclass to receive without a copy. */
  declare readonly zeroCopyReads?: boolean;
  abstract getBuffer(sizeHint: number): Uint8Array;
  abstract bufferUpdated(nbytes: number): void;
  eofReceived(): boolean | void {
    return undefined;
  }
}

/** Base class for datagram protocols (asyncio.DatagramProtocol). */
export class DatagramProtocol extends BaseProtocol<DatagramTransport> implements DatagramProtocolLike {
  datagramReceived(_data: Buffer, _addr: DatagramAddress): void {}
  errorReceived(_exc: Error): void {}
}

/** Base class for subprocess protocols (asyncio.SubprocessProtocol). */
export class SubprocessProtocol extends BaseProtocol<SubprocessTransport> implements SubprocessProtocolLike {
  pipeDataReceived(_fd: number, _data: Buffer): void {}
  pipeConnectionLost(_fd: number, _exc: Error | null): void {}
  processExited(): void {}
}

/** Whether `protocol` receives through `getBuffer`/`bufferUpdated` rather than `dataReceived`. */
export function isBufferedProtocol(protocol: unknown): protocol is BufferedProtocolLike {
  return (
    protocol !== null &&
    typeof protocol === 'object' &&
    typeof (protocol as BufferedProtocolLike).getBuffer === 'function' &&
    typeof (protocol as BufferedProtocolLike).bufferUpdated === 'function'
  );
}

/**
 * Checks that `protocol` can be given to a transport (an object with
 * `connectionLost`), for transport authors' constructors and `setProtocol()`.
 * Throws a TypeError naming `where` and what it got.
 */
export function checkProtocol(protocol: unknown, where: string): void {
  if (protocol === null || typeof protocol !== 'object' || typeof (protocol as BaseProtocolLike).connectionLost !== 'function') {
    throw new TypeError(`${where}: protocol must be a protocol object (with connectionMade/connectionLost/...), got ${describeValue(protocol)}`);
  }
}
