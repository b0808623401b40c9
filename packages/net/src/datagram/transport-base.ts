/**
 * What every datagram transport of this package shares, whatever carries its
 * datagrams (Node's `dgram` or a native socket): asyncio's
 * `_SelectorDatagramTransport` rules for `sendto`, closing, protocol
 * callbacks and write flow control. A subclass moves the bytes.
 */
import {
  checkProtocol,
  toBytes,
  WriteFlowControl,
  type BaseProtocolLike,
  type BytesLike,
  type DatagramAddress,
  type DatagramProtocolLike,
  type DatagramTransport,
  type EventLoop,
  type FlowControlOwner,
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

// State bits.
/** close()/abort() began: nothing more reaches the protocol. */
const CLOSING = 1 << 0;
/** connectionLost has been scheduled. */
const LOST = 1 << 1;
/** connectionMade has run. */
const STARTED = 1 << 2;
/** A callback that delivers held datagrams is queued. */
const DRAIN_SCHEDULED = 1 << 3;

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
  if ((transport._state & LOST) === 0) transport._flow.maybeResume();
}

/** The shared water-mark logic with the transport itself as owner (no owner object, no closures). */
class DatagramFlowControl extends WriteFlowControl {
  constructor(transport: DatagramTransportBase) {
    super(transport as unknown as FlowControlOwner);
  }

  protected override _bufferSize(): number {
    return (this.owner as unknown as DatagramTransportBase).getWriteBufferSize();
  }

  protected override _currentProtocol(): BaseProtocolLike<never> {
    return (this.owner as unknown as DatagramTransportBase)._protocol as unknown as BaseProtocolLike<never>;
  }

  protected override _reportError(message: string, exception: unknown, protocol: BaseProtocolLike<never>): void {
    const transport = this.owner as unknown as DatagramTransportBase;
    transport._loop.callExceptionHandler({ message, exception, transport, protocol });
  }
}

/**
 * asyncio's datagram transport (`DatagramTransport`). Members starting with
 * `_` are for subclasses.
 */
export abstract class DatagramTransportBase implements DatagramTransport {
  /** @internal */ readonly _loop: EventLoop;
  /** @internal */ _protocol: DatagramProtocolLike;
  /** @internal The state bits. */
  _state = 0;
  /** @internal Where `sendto(data)` without an address goes, or null. */
  readonly _address: DatagramAddress | null;
  /** @internal Bytes handed to the socket whose send has not completed (plus the per-datagram header). */
  _bufferSize = 0;
  /** @internal */ readonly _flow: WriteFlowControl;
  private readonly extra: Record<string, unknown>;
  private waiter: Future<void> | null;
  /** Datagrams held for later delivery: data, address, data, address, ... (null: none). */
  private held: unknown[] | null = null;
  private heldBytes = 0;

  /** @internal */
  constructor(loop: EventLoop, protocol: DatagramProtocolLike, init: DatagramTransportInit) {
    checkProtocol(protocol, `new ${new.target.name}()`);
    this._loop = loop;
    this._protocol = protocol;
    this._address = init.address;
    this.extra = init.extra;
    this.waiter = init.waiter;
    this._flow = new DatagramFlowControl(this);
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
      if (this.extra.peername === null) target = address;
    } else {
      if (addr === undefined || addr === null) {
        throw new TypeError('sendto(): addr is required on an endpoint created without remoteAddr');
      }
      this._checkSendAddress(addr);
      target = addr;
    }
    if ((this._state & CLOSING) !== 0) return;
    this._send(bytes, target);
  }

  /** Bytes queued and not yet sent (each datagram counts 8 bytes more, as CPython 3.12+ counts its header). */
  getWriteBufferSize(): number {
    return (this._state & LOST) !== 0 ? 0 : this._bufferSize;
  }

  /** Sets the water marks (asyncio's `set_write_buffer_limits`): only `high` gives low = high/4; neither: 64 KiB / 16 KiB. */
  setWriteBufferLimits(high?: number, low?: number): void {
    this._flow.setLimits(high, low);
  }

  /** `[low, high]` water marks. */
  getWriteBufferLimits(): [low: number, high: number] {
    return this._flow.getLimits();
  }

  /** Stops receiving, sends what is queued, then calls `connectionLost(null)` once. */
  close(): void {
    if ((this._state & CLOSING) !== 0) return;
    this._state |= CLOSING;
    this.held = null;
    this.heldBytes = 0;
    this._stopReading();
    if (this._bufferSize === 0) this._scheduleLost(null);
  }

  /** Closes at once, dropping queued datagrams; `connectionLost(null)` follows once. */
  abort(): void {
    this._forceClose(null);
  }

  /** Whether `close()` or `abort()` was called. */
  isClosing(): boolean {
    return (this._state & CLOSING) !== 0;
  }

  /**
   * asyncio's extra info: `'sockname'` and `'peername'` (Python-shaped
   * addresses; peername is null unless the socket is connected) and
   * `'socket'`. Anything else gives `defaultValue`.
   */
  getExtraInfo<V = unknown>(name: string, defaultValue?: V): V | undefined;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return Object.prototype.hasOwnProperty.call(this.extra, name) ? this.extra[name] : defaultValue;
  }

  /** Switches the protocol: datagrams arriving later go to the new one. */
  setProtocol(protocol: BaseProtocolLike<never>): void {
    checkProtocol(protocol, 'setProtocol()');
    this._protocol = protocol as unknown as DatagramProtocolLike;
  }

  /** The current protocol. */
  getProtocol(): BaseProtocolLike<never> {
    return this._protocol as unknown as BaseProtocolLike<never>;
  }

  toString(): string {
    const state = (this._state & LOST) !== 0 ? 'closed' : (this._state & CLOSING) !== 0 ? 'closing' : 'open';
    return `<${this.constructor.name} ${state} ${showAddress(this.extra.sockname)}>`;
  }

  // ------------------------------------------------------------ for subclasses

  /** @internal `size` more bytes wait in the socket: pauses the protocol over the high mark. */
  _queued(size: number): void {
    this._bufferSize += size;
    this._flow.maybePause();
  }

  /**
   * @internal A queued send of `size` bytes completed (`err` if it failed):
   * reports the error, resumes the protocol at the low mark, finishes close().
   */
  _sendDone(size: number, err: Error | null | undefined): void {
    const state = this._state;
    if ((state & LOST) !== 0) return;
    this._bufferSize -= size;
    const inLoop = runningLoopOrNull() === this._loop;
    if (err) {
      if (inLoop) this._deliverError(err);
      else callSoonUnchecked(this._loop, callErrorReceived as (...args: unknown[]) => void, [this, err]);
    }
    if (this._flow.protocolPaused) {
      if (inLoop) this._flow.maybeResume();
      else callSoonUnchecked(this._loop, callMaybeResume as (...args: unknown[]) => void, [this]);
    }
    if ((state & CLOSING) !== 0 && this._bufferSize === 0) this._scheduleLost(null);
  }

  /** @internal A datagram arrived (from a socket callback). */
  _onDatagram(data: Buffer, addr: DatagramAddress): void {
    const state = this._state;
    if ((state & CLOSING) !== 0) return;
    if ((state & STARTED) !== 0 && this.held === null && runningLoopOrNull() === this._loop) {
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
    if ((this._state & CLOSING) !== 0) return;
    if (runningLoopOrNull() === this._loop && (this._state & STARTED) !== 0) this._deliverError(err);
    else callSoonUnchecked(this._loop, callErrorReceived as (...args: unknown[]) => void, [this, err]);
  }

  /** @internal asyncio's `_force_close`: drops queued datagrams and the socket, connectionLost(exc) soon. */
  _forceClose(exc: Error | null): void {
    if ((this._state & LOST) !== 0) return;
    if ((this._state & CLOSING) === 0) {
      this._state |= CLOSING;
      this._stopReading();
    }
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
      this._protocol.connectionMade(this);
    } catch (exc) {
      const error = exc instanceof Error ? exc : new Error(String(exc));
      if (waiter !== null && !waiter.done()) waiter.setException(exc);
      else this._loop.callExceptionHandler({ message: 'Fatal error: protocol.connectionMade() call failed.', exception: exc, transport: this, protocol: this._protocol });
      this._forceClose(error);
      return;
    }
    this._state |= STARTED;
    if ((this._state & CLOSING) === 0) this._onStarted();
    if (this.held !== null) this._scheduleDrain();
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
  }

  /** @internal Runs as a loop callback: delivers the held datagrams in order. */
  _drainHeld(): void {
    this._state &= ~DRAIN_SCHEDULED;
    const held = this.held;
    this.held = null;
    this.heldBytes = 0;
    if (held === null) return;
    for (let i = 0; i < held.length && (this._state & CLOSING) === 0; i += 2) {
      this._deliver(held[i] as Buffer, held[i + 1] as DatagramAddress);
    }
  }

  /** @internal Runs as a loop callback: connectionLost once, then the socket is released. */
  _callConnectionLost(exc: Error | null): void {
    const protocol = this._protocol;
    try {
      protocol.connectionLost(exc);
    } catch (error) {
      this._loop.callExceptionHandler({ message: 'protocol.connectionLost() call failed.', exception: error, transport: this, protocol });
    } finally {
      this._closeSocket();
    }
  }

  /** @internal Calls `errorReceived(exc)` unless closing. */
  _deliverError(exc: Error): void {
    if ((this._state & CLOSING) !== 0) return;
    const protocol = this._protocol;
    try {
      protocol.errorReceived(exc);
    } catch (error) {
      this._loop.callExceptionHandler({ message: 'protocol.errorReceived() call failed.', exception: error, transport: this, protocol });
    }
  }

  // ------------------------------------------------------------ private

  private _deliver(data: Buffer, addr: DatagramAddress): void {
    const protocol = this._protocol;
    try {
      protocol.datagramReceived(data, addr);
    } catch (error) {
      // asyncio lets the exception reach the loop's handler and keeps the endpoint open.
      this._loop.callExceptionHandler({ message: 'protocol.datagramReceived() call failed.', exception: error, transport: this, protocol });
    }
  }

  private _scheduleDrain(): void {
    if ((this._state & (STARTED | DRAIN_SCHEDULED)) !== STARTED) return;
    this._state |= DRAIN_SCHEDULED;
    callSoonUnchecked(this._loop, callDrainHeld as (...args: unknown[]) => void, [this]);
  }

  private _scheduleLost(exc: Error | null): void {
    if ((this._state & LOST) !== 0) return;
    this._state |= LOST;
    callSoonUnchecked(this._loop, callConnectionLost as (...args: unknown[]) => void, [this, exc]);
  }
}
