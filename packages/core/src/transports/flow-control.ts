import { RuntimeError } from '../errors.js';
import type { EventLoop } from '../loop/event-loop.js';
import { runningLoopOrNull } from '../loop/thread-state.js';
import { AbstractTransport } from './base-transport.js';
import type { AnyProtocolLike } from './protocols.js';

/** Default high-water mark of a write buffer, as asyncio: 64 KiB. */
export const DEFAULT_HIGH_WATER = 64 * 1024;

function checkMark(value: unknown, name: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`setWriteBufferLimits(): ${name} must be a whole number of bytes or undefined, got ${String(value)}`);
  }
}

/** @internal State bit of {@link FlowControlTransport}: the protocol has been told to pause writing. */
export const PROTOCOL_PAUSED = 1 << 1;

/**
 * A transport that writes, with asyncio's write-buffer flow control
 * (`_FlowControlMixin`): `pauseWriting()` fires once when the buffer grows
 * past the high-water mark, `resumeWriting()` once when it drains to the low
 * one. A subclass says how many bytes it holds (`getWriteBufferSize()`) and
 * calls `maybePauseProtocol()` after queueing data and
 * `maybeResumeProtocol()` after some was flushed; the decisions stay here.
 * A protocol callback that throws goes to the loop's exception handler.
 */
export abstract class FlowControlTransport<P extends AnyProtocolLike = AnyProtocolLike> extends AbstractTransport<P> {
  /** @internal The loop for reporting a protocol callback that throws (null: the running loop at that moment). */
  readonly _loop: EventLoop | null;
  /** @internal */ _highWater = DEFAULT_HIGH_WATER;
  /** @internal */ _lowWater = DEFAULT_HIGH_WATER / 4;

  constructor(loop: EventLoop | null, protocol: P, extra?: Readonly<Record<string, unknown>> | null) {
    super(protocol, extra);
    this._loop = loop;
  }

  /** Bytes queued and not yet handed to the OS (or the peer). */
  abstract getWriteBufferSize(): number;

  /**
   * Sets the water marks, deriving the missing one as asyncio does (high
   * only: low = high/4; low only: high = 4*low; neither: 64 KiB / 16 KiB),
   * then pauses the protocol if the buffer is already over the new high mark.
   * Invalid limits throw (TypeError or RangeError) and leave the old ones.
   */
  setWriteBufferLimits(high?: number, low?: number): void {
    this._setLimitsOnly(high, low);
    this.maybePauseProtocol();
  }

  /** `[low, high]` water marks. */
  getWriteBufferLimits(): [low: number, high: number] {
    return [this._lowWater, this._highWater];
  }

  /** The loop given at construction (null: none; reports then go to the loop running at that moment). */
  protected get loop(): EventLoop | null {
    return this._loop;
  }

  /** Whether the protocol has been told to pause writing. */
  protected get protocolPaused(): boolean {
    return (this._state & PROTOCOL_PAUSED) !== 0;
  }

  /** Call after queueing data: pauses the protocol on crossing the high mark. */
  protected maybePauseProtocol(): void {
    if ((this._state & PROTOCOL_PAUSED) !== 0 || this.getWriteBufferSize() <= this._highWater) return;
    this._state |= PROTOCOL_PAUSED;
    const protocol = this._protocol;
    try {
      protocol.pauseWriting();
    } catch (exception) {
      this.reportProtocolError('protocol.pauseWriting() failed', exception, protocol);
    }
  }

  /** Call after some of the buffer was flushed: resumes the protocol on reaching the low mark. */
  protected maybeResumeProtocol(): void {
    if ((this._state & PROTOCOL_PAUSED) === 0 || this.getWriteBufferSize() > this._lowWater) return;
    this._state &= ~PROTOCOL_PAUSED;
    const protocol = this._protocol;
    try {
      protocol.resumeWriting();
    } catch (exception) {
      this.reportProtocolError('protocol.resumeWriting() failed', exception, protocol);
    }
  }

  /** Reports a protocol callback that threw to the loop's exception handler, with this transport. */
  protected reportProtocolError(message: string, exception: unknown, protocol: AnyProtocolLike): void {
    const loop = this._loop ?? runningLoopOrNull();
    if (loop === null) throw new RuntimeError(`${message} and no loop is running to report it`, { cause: exception });
    loop.callExceptionHandler({ message, exception, transport: this, protocol });
  }

  private _setLimitsOnly(high: number | undefined, low: number | undefined): void {
    checkMark(high, 'high');
    checkMark(low, 'low');
    let h = high ?? undefined;
    let l = low ?? undefined;
    if (h === undefined) h = l === undefined ? DEFAULT_HIGH_WATER : 4 * l;
    if (l === undefined) l = Math.floor(h / 4);
    if (!(h >= l && l >= 0)) {
      throw new RangeError(`setWriteBufferLimits(): high (${h}) must be >= low (${l}) must be >= 0`);
    }
    this._highWater = h;
    this._lowWater = l;
  }
}
