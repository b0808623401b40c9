import type { EventLoop } from '../loop/event-loop.js';
import type { BaseProtocolLike } from './protocols.js';

/** Default high-water mark of a write buffer, as asyncio: 64 KiB. */
export const DEFAULT_HIGH_WATER = 64 * 1024;

/** What {@link WriteFlowControl} needs from the transport it serves. */
export interface FlowControlOwner {
  /** The loop, for reporting a protocol callback that throws. */
  readonly loop: EventLoop;
  /** The transport, for the exception context. */
  readonly transport: unknown;
  /** Bytes queued now. */
  getWriteBufferSize(): number;
  /** The protocol to pause and resume. */
  getProtocol(): BaseProtocolLike<never>;
}

function checkMark(value: unknown, name: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`setWriteBufferLimits(): ${name} must be a whole number of bytes or undefined, got ${String(value)}`);
  }
}

/**
 * Write-buffer flow control shared by every stream transport (asyncio's
 * _FlowControlMixin): `pauseWriting()` fires once when the buffer grows past
 * the high-water mark, `resumeWriting()` once when it drains to the low one.
 *
 * Two ways to use it: give it a {@link FlowControlOwner} (an object with the
 * loop, the transport and two functions), or — to embed it at no extra cost in
 * a transport that exists by the thousand — subclass it with the transport
 * itself as `owner` and override the three `protected` accessors
 * (`_bufferSize`, `_currentProtocol`, `_reportError`); the decisions stay here.
 */
export class WriteFlowControl {
  private high = DEFAULT_HIGH_WATER;
  private low = DEFAULT_HIGH_WATER / 4;
  /** Whether the protocol has been told to pause writing. */
  protocolPaused = false;

  constructor(protected readonly owner: FlowControlOwner, high?: number, low?: number) {
    this.setLimitsOnly(high, low);
  }

  /**
   * Sets the water marks deriving the missing one as asyncio does (high only:
   * low = high/4; low only: high = 4*low), then pauses the protocol if the
   * buffer is already over the new high mark. Invalid limits throw a RangeError
   * and leave the old ones in place.
   */
  setLimits(high?: number, low?: number): void {
    this.setLimitsOnly(high, low);
    this.maybePause();
  }

  /** `[low, high]`. */
  getLimits(): [low: number, high: number] {
    return [this.low, this.high];
  }

  /** Call after queueing data: pauses the protocol on crossing the high mark. */
  maybePause(): void {
    if (this.protocolPaused || this._bufferSize() <= this.high) return;
    this.protocolPaused = true;
    const protocol = this._currentProtocol();
    try {
      protocol.pauseWriting();
    } catch (exception) {
      this._reportError('protocol.pauseWriting() failed', exception, protocol);
    }
  }

  /** Call after the buffer drained: resumes the protocol on reaching the low mark. */
  maybeResume(): void {
    if (!this.protocolPaused || this._bufferSize() > this.low) return;
    this.protocolPaused = false;
    const protocol = this._currentProtocol();
    try {
      protocol.resumeWriting();
    } catch (exception) {
      this._reportError('protocol.resumeWriting() failed', exception, protocol);
    }
  }

  /** Bytes queued now (default: `owner.getWriteBufferSize()`). */
  protected _bufferSize(): number {
    return this.owner.getWriteBufferSize();
  }

  /** The protocol to pause and resume (default: `owner.getProtocol()`). */
  protected _currentProtocol(): BaseProtocolLike<never> {
    return this.owner.getProtocol();
  }

  /** Reports a protocol callback that threw (default: to `owner.loop`'s exception handler, with `owner.transport`). */
  protected _reportError(message: string, exception: unknown, protocol: BaseProtocolLike<never>): void {
    this.owner.loop.callExceptionHandler({ message, exception, transport: this.owner.transport, protocol });
  }

  private setLimitsOnly(high: number | undefined, low: number | undefined): void {
    checkMark(high, 'high');
    checkMark(low, 'low');
    let h = high ?? undefined;
    let l = low ?? undefined;
    if (h === undefined) h = l === undefined ? DEFAULT_HIGH_WATER : 4 * l;
    if (l === undefined) l = Math.floor(h / 4);
    if (!(h >= l && l >= 0)) {
      throw new RangeError(`setWriteBufferLimits(): high (${h}) must be >= low (${l}) must be >= 0`);
    }
    this.high = h;
    this.low = l;
  }
}
