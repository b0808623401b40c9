/**
 * What every datagram transport of this package shares, whatever carries its
 * datagrams (Node's `dgram` or a native socket): asyncio's
 * `_SelectorDatagramTransport` rules for `sendto`, closing, protocol
 * callbacks and write flow control. A subclass moves the bytes.
 */
import {
  FlowControlTransport,
  checkProtocol,
  toBytes,
  type BytesLike,
  type DatagramAddress,
  type DatagramProtocolLike,
  type DatagramTransport,
  type EventLoop,
  type Future,
} from '@aioloop/core';
import { callSoonUnchecked, runningLoopOrNull } from '@aioloop/core/internal';
import { sameAddress, showAddress } from './address.js';

/**
 * Datagrams that arrive while they cannot be delivered (before
 * `connectionMade`, or while the loop is stopped) wait here up to this many
 * bytes; later ones are dropped, as a full kernel receive buffer drops them.
 */
export const MAX_HELD_BYTES = 256 * 1024;

// Bits of `_flags` (closing is the base transport's: isClosing()).
/** connectionLost has been scheduled. */
const LOST = 1 << 0;
/** connectionMade has run. */
const STARTED = 1 << 1;
/** A callback that delivers held datagrams is queued. */
const DRAIN_SCHEDULED = 1 << 2;

/** How a subclass starts its transport. */
export interface DatagramTransportInit {
  /** Where `sendto(data)` without an address goes (asyncio's `r_addr`), or null. */
  address: DatagramAddress | null;
  /** Extra info (`sockname`, `peername`, `socket`). */
  extra: Record<string, unknown>;
  /** Resolved once `connectionMade` ran; rejected with its error if it threw. */
  waiter: Future<void> | null;
}

function callConnectionMade(transport: DatagramTransportBase): void {
  transport._connectionMade();
}
function callDrainHeld(transport: DatagramTransportBase): void {
  transport._drainHeld();
}
function callConnectionLost(transport: DatagramTransportBase, exc: Error | null): void {
  transport._callConnectionLost(exc);
}
function callErrorReceived(transport: DatagramTransportBase, exc: Error): void {
  transport._deliverError(exc);
}
function callMaybeResume(transport: DatagramTransportBase): void {
  transport._resumeProtocolLater();
}

/**
 * asyncio's datagram transport (`DatagramTransport`). Members starting with
 * `_` are for subclasses.
 */
export abstract class DatagramTransportBase extends FlowControlTransport<DatagramProtocolLike> implements DatagramTransport {
  /** @internal */ readonly _eventLoop: EventLoop;
  /** @internal LOST, STARTED, DRAIN_SCHEDULED. */
  _flags = 0;
  /** @internal Where `sendto(data)` without an address goes, or null. */
  readonly _address: DatagramAddress | null;
  /** @internal Bytes handed to the socket whose send has not completed (plus the per-datagram header). */
  _bufferSize = 0;
  private waiter: Future<void> | null;
  /** Datagrams held for later delivery: data, address, data, address, ... (null: none). */
  private held: unknown[] | null = null;
  private heldBytes = 0;

  /** @internal */
  constructor(loop: EventLoop, protocol: DatagramProtocolLike, init: DatagramTransportInit) {
    checkProtocol(protocol, `new ${new.target.name}()`);
    super(loop, protocol, init.extra);
    this._eventLoop = loop;
    this._address = init.address;
    this.waiter = init.waiter;
    callSoonUnchecked(loop, callConnectionMade as (...args: unknown[]) => void, [this]);
  }

  // ------------------------------------------------------------ subclass hooks

  /** @internal Checks a `sendto` address of this endpoint's family (throws a TypeError). */
  protected abstract _checkSendAddress(addr: unknown): void;

  /**
   * @internal Hands one datagram to the socket (`addr` null: the connected
   * peer). Adds to `_bufferSize` what is not sent at once and calls
   * `_sendDone` when it is.
   */
  protected abstract _send(data: Uint8Array, addr: DatagramAddress | null): void;

  /** @internal connectionMade has run: a transport that reads on demand starts here. */
  protected _onStarted(): void {}

  /** @internal Stops receiving (close() began). */
  protected abstract _stopReading(): void;

  /** @internal Releases the socket (drops what it still queues); called once. */
  protected abstract _closeSocket(): void;

  // ------------------------------------------------------------ public API

  /**
   * Sends `data` as one datagram to `addr`, or to the endpoint's `remoteAddr`
   * when `addr` is omitted. On an endpoint made with `remoteAddr`, `addr`
   * must be omitted or equal to it (a RangeError otherwise, asyncio's
   * ValueError). Never blocks: what the socket cannot take at once is queued
   * and counted by `getWriteBufferSize()`, with `pauseWriting()` over the
   * high-water mark. As `write()`, the transport keeps a reference to `data`
   * (no copy) until it is sent: do not modify it before. A send that fails
   * reaches the protocol's `errorReceived(exc)`. After `close()` or
   * `abort()`, datagrams are dropped.
   */
  sendto(data: BytesLike, addr?: DatagramAddress | null): void {
    const bytes = toBytes(data, 'sendto');
    const address = this._address;
    let target: DatagramAddress | null = null;
    if (address !== null) {
      if (addr !== undefined && addr !== null && !sameAddress(addr, address)) {
        throw new RangeError(`sendto(): invalid address: this endpoint sends to its remoteAddr ${showAddress(address)}; addr must be omitted or equal to it, got ${showAddress(addr)}`);
      }
      if (this.getExtraInfo('peername') === null) target = address;
    } else {
      if (addr === undefined || addr === null) {
        throw new TypeError('sendto(): addr is required on an endpoint created without remoteAddr');
      }
      this._checkSendAddress(addr);
      target = addr;
    }
    if (this.isClosing()) return;
    this._send(bytes, target);
  }

  /** Bytes queued and not yet sent (each datagram counts 8 bytes more, as CPython 3.12+ counts its header). */
  getWriteBufferSize(): number {
    return (this._flags & LOST) !== 0 ? 0 : this._bufferSize;
  }

  /** Stops receiving, sends what is queued, then calls `connectionLost(null)` once. */
  close(): void {
    if (!this.beginClosing()) return;
    this.held = null;
    this.heldBytes = 0;
    this._stopReading();
    if (this._bufferSize === 0) this._scheduleLost(null);
  }

  /** Closes at once, dropping queued datagrams; `connectionLost(null)` follows once. */
  abort(): void {
    this._forceClose(null);
  }

  override   toString(): string {
    const state = (this._flags & LOST) !== 0 ? 'closed' : this.isClosing() ? 'closing' : 'open';
    return `<${this.constructor.name} ${state} ${showAddress(this.getExtraInfo('sockname'))}>`;
  }

  // ------------------------------------------------------------ for subclasses

  /** @internal `size` more bytes wait in the socket: pauses the protocol over the high mark. */
  _queued(size: number): void {
    this._bufferSize += size;
    this.maybePauseProtocol();
  }

  /**
   * @internal A queued send of `size` bytes completed (`err` if it failed):
   * reports the error, resumes the protocol at the low mark, finishes close().
   */
  _sendDone(size: number, err: Error | null | undefined): void {
    if ((this._flags & LOST) !== 0) return;
    this._bufferSize -= size;
    const inLoop = runningLoopOrNull() === this._eventLoop;
    if (err) {
      if (inLoop) this._deliverError(err);
      else callSoonUnchecked(this._eventLoop, callErrorReceived as (...args: unknown[]) => void, [this, err]);
    }
    if (this.protocolPaused) {
      if (inLoop) this.maybeResumeProtocol();
      else callSoonUnchecked(this._eventLoop, callMaybeResume as (...args: unknown[]) => void, [this]);
    }
    if (this.isClosing() && this._bufferSize === 0) this._scheduleLost(null);
  }

  /** @internal Runs as a loop callback: a send completed outside the loop. */
  _resumeProtocolLater(): void {
    if ((this._flags & LOST) === 0) this.maybeResumeProtocol();
  }

  /** @internal A datagram arrived (from a socket callback). */
  _onDatagram(data: Buffer, addr: DatagramAddress): void {
    if (this.isClosing()) return;
    if ((this._flags & STARTED) !== 0 && this.held === null && runningLoopOrNull() === this._eventLoop) {
      this._deliver(data, addr);
      return;
    }
    if (this.heldBytes + data.byteLength > MAX_HELD_BYTES) return; // dropped, as by a full receive buffer
    (this.held ??= []).push(data, addr);
    this.heldBytes += data.byteLength;
    this._scheduleDrain();
  }

  /** @internal A receive or send error for this endpoint (ICMP errors, ...): `errorReceived`, the endpoint stays open. */
  _onError(err: Error): void {
    if (this.isClosing()) return;
    if (runningLoopOrNull() === this._eventLoop && (this._flags & STARTED) !== 0) this._deliverError(err);
    else callSoonUnchecked(this._eventLoop, callErrorReceived as (...args: unknown[]) => void, [this, err]);
  }

  /** @internal asyncio's `_force_close`: drops queued datagrams and the socket, connectionLost(exc) soon. */
  _forceClose(exc: Error | null): void {
    if ((this._flags & LOST) !== 0) return;
    if (this.beginClosing()) this._stopReading();
    this.held = null;
    this.heldBytes = 0;
    this._bufferSize = 0;
    this._closeSocket();
    this._scheduleLost(exc);
  }

  // ------------------------------------------------------------ loop callbacks

  /** @internal Runs as a loop callback. */
  _connectionMade(): void {
    const waiter = this.waiter;
    this.waiter = null;
    try {
      this.protocol.connectionMade(this);
    } catch (exc) {
      const error = exc instanceof Error ? exc : new Error(String(exc));
      if (waiter !== null && !waiter.done()) waiter.setException(exc);
      else this._eventLoop.callExceptionHandler({ message: 'Fatal error: protocol.connectionMade() call failed.', exception: exc, transport: this, protocol: this.protocol });
      this._forceClose(error);
      return;
    }
    this._flags |= STARTED;
    if (!this.isClosing()) this._onStarted();
    if (this.held !== null) this._scheduleDrain();
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
  }

  /** @internal Runs as a loop callback: delivers the held datagrams in order. */
  _drainHeld(): void {
    this._flags &= ~DRAIN_SCHEDULED;
    const held = this.held;
    this.held = null;
    this.heldBytes = 0;
    if (held === null) return;
    for (let i = 0; i < held.length && !this.isClosing(); i += 2) {
      this._deliver(held[i] as Buffer, held[i + 1] as DatagramAddress);
    }
  }

  /** @internal Runs as a loop callback: connectionLost once, then the socket is released. */
  _callConnectionLost(exc: Error | null): void {
    const protocol = this.protocol;
    try {
      protocol.connectionLost(exc);
    } catch (error) {
      this._eventLoop.callExceptionHandler({ message: 'protocol.connectionLost() call failed.', exception: error, transport: this, protocol });
    } finally {
      this._closeSocket();
    }
  }

  /** @internal Calls `errorReceived(exc)` unless closing. */
  _deliverError(exc: Error): void {
    if (this.isClosing()) return;
    const protocol = this.protocol;
    try {
      protocol.errorReceived(exc);
    } catch (error) {
      this._eventLoop.callExceptionHandler({ message: 'protocol.errorReceived() call failed.', exception: error, transport: this, protocol });
    }
  }

  // ------------------------------------------------------------ private

  private _deliver(data: Buffer, addr: DatagramAddress): void {
    const protocol = this.protocol;
    try {
      protocol.datagramReceived(data, addr);
    } catch (error) {
      // asyncio lets the exception reach the loop's handler and keeps the endpoint open.
      this._eventLoop.callExceptionHandler({ message: 'protocol.datagramReceived() call failed.', exception: error, transport: this, protocol });
    }
  }

  private _scheduleDrain(): void {
    if ((this._flags & (STARTED | DRAIN_SCHEDULED)) !== STARTED) return;
    this._flags |= DRAIN_SCHEDULED;
    callSoonUnchecked(this._eventLoop, callDrainHeld as (...args: unknown[]) => void, [this]);
  }

  private _scheduleLost(exc: Error | null): void {
    if ((this._flags & LOST) !== 0) return;
    this._flags |= LOST;
    callSoonUnchecked(this._eventLoop, callConnectionLost as (...args: unknown[]) => void, [this, exc]);
  }
}
