import {
  FlowControlTransport,
  RuntimeError,
  toBytes,
  type AnyProtocolLike,
  type BufferedProtocolLike,
  type BytesLike,
  type EventLoop,
  type ProtocolLike,
  type Transport,
} from '@aioloop/core';
import { describeValue } from './describe.js';
import { deliverBytes, writeEach } from './bytes.js';
import { checkOptionKeys, runningLoopOrNull } from '@aioloop/core/internal';

/** The transport methods a {@link MockTransport} records. */
export type MockTransportMethod =
  | 'write'
  | 'writeEof'
  | 'close'
  | 'abort'
  | 'pauseReading'
  | 'resumeReading'
  | 'setProtocol'
  | 'setWriteBufferLimits';

/** One recorded call on a {@link MockTransport}. */
export interface MockTransportCall {
  /** The method called. */
  readonly method: MockTransportMethod;
  /** `write`: a copy of the bytes. */
  readonly data?: Buffer;
  /** The loop time of the call (NaN if no loop was running). */
  readonly time: number;
}

/** Options of a {@link MockTransport}. */
export interface MockTransportOptions {
  /** The protocol; `connect()` calls its `connectionMade` (default: none until `setProtocol` or `connect`). */
  protocol?: ProtocolLike | BufferedProtocolLike;
  /** The loop for time stamps and for reporting protocol errors (default: the running loop). */
  loop?: EventLoop;
  /** What `getExtraInfo` answers, by key (`'peername'`, `'sockname'`, ...). */
  extra?: Readonly<Record<string, unknown>>;
  /** What `canWriteEof()` answers (default true). */
  canWriteEof?: boolean;
}

type AnyProtocol = ProtocolLike | BufferedProtocolLike;

function noProtocol(method: string): never {
  throw new RuntimeError(`MockTransport.${method}(): no protocol; pass { protocol } or call connect(protocol) first`);
}

/** Stands in until the test gives a protocol: every callback says what to do. */
const NO_PROTOCOL: ProtocolLike = {
  connectionMade: () => noProtocol('connect'),
  connectionLost: () => noProtocol('loseConnection'),
  pauseWriting: () => noProtocol('setWriteBufferSize'),
  resumeWriting: () => noProtocol('setWriteBufferSize'),
  dataReceived: () => noProtocol('receive'),
  eofReceived: () => noProtocol('receiveEof'),
};

/**
 * A transport double: it records every call (writes, `writeEof`, `close`,
 * `abort`, pause/resume, `setProtocol`) and sends nothing anywhere. The test
 * drives the protocol with `receive(data)`, `receiveEof()` and
 * `loseConnection(exc)`, and simulates a filling write buffer with
 * `setWriteBufferSize(n)` (which fires `pauseWriting`/`resumeWriting` at the
 * water marks, through core's shared flow control). Drivers call the protocol
 * synchronously, so a test reads its effect on the next line.
 */
export class MockTransport extends FlowControlTransport<AnyProtocol> implements Transport {
  /** Every call, in order. */
  readonly calls: MockTransportCall[] = [];
  /** The bytes of each accepted `write`, in order. */
  readonly writes: Buffer[] = [];
  /** Writes dropped because the transport was closing (asyncio ignores them too). */
  writesAfterClose = 0;
  private readonly eofSupported: boolean;
  private eofWritten = false;
  private reading = true;
  private lostCalled = false;
  private bufferSize = 0;

  constructor(options: MockTransportOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`MockTransport(options): options must be an object, got ${describeValue(options)}`);
    }
    checkOptionKeys(options, 'MockTransport', ['protocol', 'loop', 'extra', 'canWriteEof']);
    super(options.loop ?? null, options.protocol ?? NO_PROTOCOL, options.extra);
    this.eofSupported = options.canWriteEof ?? true;
  }

  // ----------------------------------------------------------- test drivers

  /** Calls `protocol.connectionMade(this)` (with `protocol`, sets it first). */
  connect(protocol?: AnyProtocol): this {
    if (protocol !== undefined) super.setProtocol(protocol);
    this.requireProtocol('connect').connectionMade(this);
    return this;
  }

  /**
   * Delivers `data` to the protocol: `dataReceived`, or `getBuffer` +
   * `bufferUpdated` for a buffered protocol (in as many rounds as its buffers need).
   */
  receive(data: BytesLike | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(toBytes(data, 'receive'));
    deliverBytes(this.requireProtocol('receive'), bytes);
  }

  /**
   * Delivers EOF: calls `eofReceived()` and returns what it returned. As a real
   * transport does, a falsy answer closes the transport (recorded as `close`).
   */
  receiveEof(): boolean {
    const keepOpen = Boolean(this.requireProtocol('receiveEof').eofReceived());
    if (!keepOpen) this.close();
    return keepOpen;
  }

  /** Calls `connectionLost(exc)` once; later calls are ignored, as transports guarantee. */
  loseConnection(exc: Error | null = null): void {
    if (exc !== null && !(exc instanceof Error)) throw new TypeError(`loseConnection(): exc must be an Error or null (a clean close), got ${describeValue(exc)}`);
    if (this.lostCalled) return;
    this.lostCalled = true;
    this.beginClosing();
    this.requireProtocol('loseConnection').connectionLost(exc);
  }

  /**
   * Pretends `size` bytes are queued: crossing the high-water mark calls
   * `pauseWriting()`, draining to the low one calls `resumeWriting()`.
   */
  setWriteBufferSize(size: number): void {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw new TypeError(`setWriteBufferSize(): size must be a whole number of bytes >= 0, got ${describeValue(size)}`);
    }
    const grew = size > this.bufferSize;
    this.bufferSize = size;
    if (grew) this.maybePauseProtocol();
    else this.maybeResumeProtocol();
  }

  /** Every accepted write, concatenated. */
  written(): Buffer {
    return Buffer.concat(this.writes);
  }

  /** The method names called, in order. */
  methods(): MockTransportMethod[] {
    return this.calls.map((call) => call.method);
  }

  /** Whether `abort()` was called. */
  get aborted(): boolean {
    return this.calls.some((call) => call.method === 'abort');
  }

  /** Whether `writeEof()` was called. */
  get eofSent(): boolean {
    return this.eofWritten;
  }

  /** Whether the protocol asked to pause writing and was not resumed yet. */
  override get protocolPaused(): boolean {
    return super.protocolPaused;
  }

  // ---------------------------------------------------- the Transport API

  write(data: BytesLike): void {
    const bytes = toBytes(data, 'write');
    if (this.eofWritten) throw new RuntimeError('Cannot call write() after writeEof()');
    const copy = Buffer.from(bytes);
    this.calls.push({ method: 'write', data: copy, time: this.now() });
    if (this.isClosing()) {
      this.writesAfterClose++;
      return;
    }
    if (copy.byteLength > 0) this.writes.push(copy);
  }

  writelines(list: Iterable<BytesLike>): void {
    writeEach(this, list);
  }

  writeEof(): void {
    if (!this.eofSupported) throw new RuntimeError('This transport does not support writeEof()');
    this.calls.push({ method: 'writeEof', time: this.now() });
    if (this.isClosing()) return;
    this.eofWritten = true;
  }

  canWriteEof(): boolean {
    return this.eofSupported;
  }

  close(): void {
    this.calls.push({ method: 'close', time: this.now() });
    this.beginClosing();
  }

  abort(): void {
    this.calls.push({ method: 'abort', time: this.now() });
    this.beginClosing();
  }

  isReading(): boolean {
    return this.reading && !this.isClosing();
  }

  pauseReading(): void {
    this.calls.push({ method: 'pauseReading', time: this.now() });
    this.reading = false;
  }

  resumeReading(): void {
    this.calls.push({ method: 'resumeReading', time: this.now() });
    this.reading = true;
  }

  override setWriteBufferLimits(high?: number, low?: number): void {
    this.calls.push({ method: 'setWriteBufferLimits', time: this.now() });
    super.setWriteBufferLimits(high, low);
  }

  getWriteBufferSize(): number {
    return this.bufferSize;
  }

  override setProtocol(protocol: AnyProtocolLike): void {
    this.validateProtocol(protocol, 'setProtocol()');
    this.calls.push({ method: 'setProtocol', time: this.now() });
    super.setProtocol(protocol);
  }

  override getProtocol(): AnyProtocolLike {
    return this.requireProtocol('getProtocol');
  }

  override   toString(): string {
    return `<MockTransport ${this.isClosing() ? 'closing' : 'open'} writes=${this.writes.length}>`;
  }

  private requireProtocol(method: string): AnyProtocol {
    if (this.protocol === NO_PROTOCOL) noProtocol(method);
    return this.protocol;
  }

  private now(): number {
    const loop = runningLoopOrNull() ?? this.loop;
    return loop === null ? Number.NaN : loop.time();
  }
}
