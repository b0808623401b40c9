import {
  TimeoutError,
  type BaseTransport,
  type BufferedProtocolLike,
  type DatagramAddress,
  type DatagramProtocolLike,
  type DatagramTransport,
  type EventLoop,
  type Future,
  type ProtocolLike,
  type Transport,
} from '@aioloop/core';
import { describeValue } from './describe.js';
import { checkOptionKeys, runningLoopOrNull } from '@aioloop/core/internal';

/** The callbacks a recording protocol records. */
export type ProtocolEventType =
  | 'connectionMade'
  | 'dataReceived'
  | 'bufferUpdated'
  | 'eofReceived'
  | 'pauseWriting'
  | 'resumeWriting'
  | 'connectionLost'
  | 'datagramReceived'
  | 'errorReceived';

const EVENT_TYPES: readonly ProtocolEventType[] = [
  'connectionMade',
  'dataReceived',
  'bufferUpdated',
  'eofReceived',
  'pauseWriting',
  'resumeWriting',
  'connectionLost',
  'datagramReceived',
  'errorReceived',
];

/** Throws unless `type` is a callback name a recorder records (a typo would count 0 and pass). */
function checkEventType(type: unknown, method: string): void {
  if (!EVENT_TYPES.includes(type as ProtocolEventType)) {
    throw new RangeError(`${method}(): type must be a protocol callback name (${EVENT_TYPES.join(', ')}), got ${describeValue(type)}`);
  }
}

/** One recorded protocol callback. */
export interface ProtocolEvent {
  /** Which callback. */
  readonly type: ProtocolEventType;
  /** The loop time when it arrived (NaN if no loop was running). */
  readonly time: number;
  /** `dataReceived` / `bufferUpdated` / `datagramReceived`: a copy of the bytes. */
  readonly data?: Buffer;
  /** `datagramReceived`: the sender's address. */
  readonly addr?: DatagramAddress;
  /** `connectionLost` / `errorReceived`: the error (null for a clean close). */
  readonly exc?: Error | null;
  /** `pauseWriting` / `resumeWriting`: the transport's write buffer size at that moment. */
  readonly writeBufferSize?: number;
  /** `eofReceived`: what the protocol returned. */
  readonly returned?: boolean | undefined;
}

/** What {@link RecordingProtocol.waitFor} waits for: a callback name, or a condition checked after each callback. */
export type WaitCondition<P> = ProtocolEventType | ((protocol: P) => boolean);

/** Options of a recording protocol. */
export interface RecordingProtocolOptions {
  /** What `eofReceived()` returns: true keeps the transport open for writing (default false). */
  eofReturn?: boolean;
  /** The loop whose time stamps events when no loop is running (default: the running loop). */
  loop?: EventLoop;
  /** A name used in descriptions and error messages (default 'protocol'). */
  name?: string;
}

interface Waiter<P> {
  condition: (protocol: P) => boolean;
  future: Future<P>;
  timer: { cancel(): void } | null;
}

function conditionOf<P>(condition: WaitCondition<P>, events: () => readonly ProtocolEvent[]): (protocol: P) => boolean {
  if (typeof condition === 'function') return condition;
  if (typeof condition !== 'string') {
    throw new TypeError(`waitFor(): condition must be a callback name such as 'connectionLost' or a function (protocol) => boolean, got ${describeValue(condition)}`);
  }
  return () => events().some((event) => event.type === condition);
}

/** Renders bytes for a message: short text as a quoted string, else a hex preview. */
export function previewBytes(data: Uint8Array, max = 40): string {
  if (!(data instanceof Uint8Array)) throw new TypeError(`previewBytes(): data must be a Buffer or Uint8Array, got ${describeValue(data)}`);
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`previewBytes(): max must be a whole number >= 0, got ${describeValue(max)}`);
  const slice = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, max));
  const printable = /^[\x20-\x7e\r\n\t]*$/.test(slice.toString('latin1'));
  const text = printable ? JSON.stringify(slice.toString('latin1')) : `<${slice.toString('hex')}>`;
  return data.byteLength > max ? `${text}... (${data.byteLength} bytes)` : text;
}

/** Formats one event as a line of a timeline: `  1.250s dataReceived 5 bytes "hello"`. */
export function formatEvent(event: ProtocolEvent): string {
  if (event === null || typeof event !== 'object' || !EVENT_TYPES.includes((event as { type?: unknown }).type as ProtocolEventType)) {
    throw new TypeError(`formatEvent(): event must be a recorded ProtocolEvent (an entry of protocol.events), got ${describeValue(event)}`);
  }
  const time = Number.isNaN(event.time) ? '      -' : `${event.time.toFixed(3).padStart(7)}s`;
  let detail = '';
  switch (event.type) {
    case 'dataReceived':
    case 'bufferUpdated':
      detail = ` ${event.data?.byteLength ?? 0} bytes ${previewBytes(event.data ?? Buffer.alloc(0))}`;
      break;
    case 'datagramReceived':
      detail = ` ${previewBytes(event.data ?? Buffer.alloc(0))} from ${JSON.stringify(event.addr)}`;
      break;
    case 'connectionLost':
    case 'errorReceived':
      detail = event.exc ? ` ${event.exc.name}: ${event.exc.message}` : ' (clean)';
      break;
    case 'pauseWriting':
    case 'resumeWriting':
      if (event.writeBufferSize !== undefined) detail = ` (write buffer ${event.writeBufferSize} bytes)`;
      break;
    case 'eofReceived':
      detail = ` -> ${String(event.returned)}`;
      break;
    default:
      break;
  }
  return `${time} ${event.type}${detail}`;
}

/** Shared recording machinery of the stream and datagram recording protocols. */
abstract class Recorder<T extends BaseTransport> {
  /** Every callback, in arrival order. */
  readonly events: ProtocolEvent[] = [];
  /** The transport given to `connectionMade` (null before). */
  transport: T | null = null;
  /** The name used in descriptions. */
  readonly name: string;
  protected readonly loop: EventLoop | undefined;
  private readonly waiters: Waiter<this>[] = [];

  constructor(options: RecordingProtocolOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`RecordingProtocol(options): options must be an object, got ${describeValue(options)}`);
    }
    const cls = new.target.name;
    checkOptionKeys(options, cls, cls === 'RecordingBufferedProtocol' ? ['eofReturn', 'loop', 'name', 'bufferSize'] : ['eofReturn', 'loop', 'name']);
    this.loop = options.loop;
    this.name = options.name ?? 'protocol';
  }

  /** The callback names in order, e.g. `['connectionMade', 'dataReceived', 'connectionLost']`. */
  types(): ProtocolEventType[] {
    return this.events.map((event) => event.type);
  }

  /** How many times `type` was called. */
  count(type: ProtocolEventType): number {
    checkEventType(type, 'count');
    let n = 0;
    for (const event of this.events) if (event.type === type) n++;
    return n;
  }

  /** The first event of `type`, if any. */
  first(type: ProtocolEventType): ProtocolEvent | undefined {
    checkEventType(type, 'first');
    return this.events.find((event) => event.type === type);
  }

  /** Whether `connectionLost` was called. */
  get lost(): boolean {
    return this.count('connectionLost') > 0;
  }

  /** The error `connectionLost` got (null for a clean close, undefined if not lost yet). */
  get lostError(): Error | null | undefined {
    return this.first('connectionLost')?.exc;
  }

  /** A readable timeline of everything recorded, one event per line. */
  describe(): string {
    if (this.events.length === 0) return `${this.name}: (no callbacks yet)`;
    return `${this.name}:\n${this.events.map((event) => `  ${formatEvent(event)}`).join('\n')}`;
  }

  /**
   * A future that resolves (with this protocol) once `condition` holds: a
   * callback name that has been called, or a predicate checked after every
   * callback. With `timeoutSeconds` (loop time) it fails with a TimeoutError
   * whose message shows the timeline so far. Needs a loop: the running one or
   * the `loop` option.
   */
  waitFor(condition: WaitCondition<this>, timeoutSeconds?: number): Future<this> {
    const check = conditionOf(condition, () => this.events);
    const loop = this.loop ?? runningLoopOrNull();
    if (loop === null) throw new TypeError('waitFor(): no running event loop; pass { loop } to the protocol');
    const future = loop.createFuture<this>();
    if (check(this)) {
      future.setResult(this);
      return future;
    }
    const waiter: Waiter<this> = { condition: check, future, timer: null };
    if (timeoutSeconds !== undefined) {
      if (typeof timeoutSeconds !== 'number' || Number.isNaN(timeoutSeconds) || timeoutSeconds < 0) {
        throw new TypeError(`waitFor(): timeoutSeconds must be a number >= 0, got ${describeValue(timeoutSeconds)}`);
      }
      const what = typeof condition === 'string' ? condition : 'the condition';
      waiter.timer = loop.callLater(timeoutSeconds, () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        if (!future.done()) future.setException(new TimeoutError(`timed out after ${timeoutSeconds}s waiting for ${what} on ${this.describe()}`));
      });
    }
    future.addDoneCallback(() => {
      const index = this.waiters.indexOf(waiter);
      if (index >= 0) this.waiters.splice(index, 1);
      waiter.timer?.cancel();
    });
    this.waiters.push(waiter);
    return future;
  }

  protected now(): number {
    const loop = runningLoopOrNull() ?? this.loop;
    return loop === undefined || loop === null ? Number.NaN : loop.time();
  }

  protected record(event: Omit<ProtocolEvent, 'time'>): void {
    this.events.push({ ...event, time: this.now() });
    for (const waiter of [...this.waiters]) {
      if (!waiter.future.done() && waiter.condition(this)) waiter.future.setResult(this);
    }
  }

  protected bufferSize(): number | undefined {
    const transport = this.transport as unknown as { getWriteBufferSize?: () => number } | null;
    if (transport === null || typeof transport.getWriteBufferSize !== 'function') return undefined;
    try {
      return transport.getWriteBufferSize();
    } catch {
      return undefined;
    }
  }

  connectionMade(transport: T): void {
    this.transport = transport;
    this.record({ type: 'connectionMade' });
  }

  connectionLost(exc: Error | null): void {
    this.record({ type: 'connectionLost', exc });
  }

  pauseWriting(): void {
    this.record({ type: 'pauseWriting', writeBufferSize: this.bufferSize() });
  }

  resumeWriting(): void {
    this.record({ type: 'resumeWriting', writeBufferSize: this.bufferSize() });
  }
}

/**
 * A stream protocol that records every callback with the loop time it arrived
 * at, for assertions: `types()`, `received()`, `describe()` (a readable
 * timeline), and `waitFor('connectionLost')` to await a callback.
 */
export class RecordingProtocol extends Recorder<Transport> implements ProtocolLike {
  private readonly eofReturn: boolean;
  private readonly chunks: Buffer[] = [];
  private receivedLength = 0;

  constructor(options: RecordingProtocolOptions = {}) {
    super(options);
    const eofReturn = options.eofReturn ?? false;
    if (typeof eofReturn !== 'boolean') throw new TypeError(`RecordingProtocol(): eofReturn must be a boolean, got ${describeValue(eofReturn)}`);
    this.eofReturn = eofReturn;
  }

  /** Every byte received so far, concatenated. */
  received(): Buffer {
    return Buffer.concat(this.chunks, this.receivedLength);
  }

  /** How many bytes have been received. */
  get receivedBytes(): number {
    return this.receivedLength;
  }

  dataReceived(data: Buffer): void {
    const copy = Buffer.from(data);
    this.chunks.push(copy);
    this.receivedLength += copy.byteLength;
    this.record({ type: 'dataReceived', data: copy });
  }

  eofReceived(): boolean {
    this.record({ type: 'eofReceived', returned: this.eofReturn });
    return this.eofReturn;
  }
}

/** A datagram protocol that records every callback with its loop time. */
export class RecordingDatagramProtocol extends Recorder<DatagramTransport> implements DatagramProtocolLike {
  /** The datagrams received, in order, with their senders. */
  readonly datagrams: { data: Buffer; addr: DatagramAddress }[] = [];

  constructor(options: RecordingProtocolOptions = {}) {
    super(options);
  }

  datagramReceived(data: Buffer, addr: DatagramAddress): void {
    const copy = Buffer.from(data);
    this.datagrams.push({ data: copy, addr });
    this.record({ type: 'datagramReceived', data: copy, addr });
  }

  errorReceived(exc: Error): void {
    this.record({ type: 'errorReceived', exc });
  }
}

/** Options of a {@link RecordingBufferedProtocol}. */
export interface RecordingBufferedProtocolOptions extends RecordingProtocolOptions {
  /** Size of the buffer `getBuffer()` returns, whatever the size hint (default 1000). */
  bufferSize?: number;
}

/**
 * A BufferedProtocol that records like {@link RecordingProtocol}: each
 * `bufferUpdated(n)` is recorded (type `'bufferUpdated'`) with a copy of the n
 * bytes, and `getBuffer()` calls are counted. A small `bufferSize` makes a
 * transport deliver in many rounds.
 */
export class RecordingBufferedProtocol extends Recorder<Transport> implements BufferedProtocolLike {
  /** How many times `getBuffer` was called. */
  getBufferCalls = 0;
  private readonly buffer: Uint8Array;
  private readonly eofReturn: boolean;
  private readonly chunks: Buffer[] = [];
  private receivedLength = 0;

  constructor(options: RecordingBufferedProtocolOptions = {}) {
    super(options);
    const size = options.bufferSize ?? 1000;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      throw new TypeError(`RecordingBufferedProtocol(): bufferSize must be a whole number >= 1, got ${describeValue(size)}`);
    }
    this.buffer = new Uint8Array(size);
    this.eofReturn = options.eofReturn ?? false;
  }

  /** Every byte received so far, concatenated. */
  received(): Buffer {
    return Buffer.concat(this.chunks, this.receivedLength);
  }

  /** How many bytes have been received. */
  get receivedBytes(): number {
    return this.receivedLength;
  }

  getBuffer(_sizeHint: number): Uint8Array {
    this.getBufferCalls++;
    return this.buffer;
  }

  bufferUpdated(nbytes: number): void {
    if (!Number.isInteger(nbytes) || nbytes < 0 || nbytes > this.buffer.byteLength) {
      throw new RangeError(`bufferUpdated(${String(nbytes)}): nbytes must be between 0 and the buffer size ${this.buffer.byteLength}`);
    }
    const copy = Buffer.from(this.buffer.subarray(0, nbytes));
    this.chunks.push(copy);
    this.receivedLength += nbytes;
    this.record({ type: 'bufferUpdated', data: copy });
  }

  eofReceived(): boolean {
    this.record({ type: 'eofReceived', returned: this.eofReturn });
    return this.eofReturn;
  }
}
