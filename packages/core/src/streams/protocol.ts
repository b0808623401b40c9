/**
 * asyncio's StreamReaderProtocol: the protocol that joins a socket transport
 * to a {@link StreamReader} and, for servers, hands each connection to the
 * client-connected callback as a reader and a {@link StreamWriter}.
 */
import { describeValue } from '../debug/describe.js';
import type { EventLoop } from '../loop/event-loop.js';
import { runningLoopOrNull } from '../loop/thread-state.js';
import { RuntimeError } from '../errors.js';
import type { Future } from '../futures/future.js';
import { wrapFuture } from '../helpers/ensure-future.js';
import type { ProtocolLike } from '../transports/protocols.js';
import type { Transport } from '../transports/transports.js';
import { StreamReader } from './reader.js';
import { CLOSE_WAITER, FlowControl, StreamWriter, type DrainSource } from './writer.js';

/**
 * The callback `startServer` calls for each connection (asyncio's
 * `client_connected_cb`). An async function runs as a task of its own, as
 * asyncio runs a coroutine; if it fails, the failure goes to the loop's
 * exception handler and the connection is closed.
 */
export type ClientConnectedCallback = (reader: StreamReader, writer: StreamWriter) => void | PromiseLike<void>;

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as unknown;

/** Whether `fn` is an `async function` (or an async arrow / method, bound or not). */
function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === 'function' && Object.getPrototypeOf(fn)?.constructor === AsyncFunction;
}

/**
 * The protocol behind `openConnection` and `startServer`
 * (asyncio.StreamReaderProtocol): feeds received bytes and EOF to its
 * {@link StreamReader}, provides `drain()`'s flow control and
 * `waitClosed()`'s future to the {@link StreamWriter}, and, given a
 * client-connected callback, calls it with the reader and a new writer when
 * the connection is made.
 */
export class StreamReaderProtocol extends FlowControl implements ProtocolLike, DrainSource {
  private _reader: StreamReader | null;
  private _writer: StreamWriter | null = null;
  private _task: Future<void> | null = null;
  private _transport: Transport | null = null;
  private readonly _clientConnectedCb: ClientConnectedCallback | null;
  private _overSsl = false;
  private readonly _closed: Future<void>;

  /**
   * @param streamReader - the reader fed by this protocol (null: the bytes are dropped).
   * @param clientConnectedCb - for servers: called with the reader and a new writer on `connectionMade`.
   * @param loop - the loop (default: the reader's).
   */
  constructor(streamReader: StreamReader | null, clientConnectedCb: ClientConnectedCallback | null = null, loop?: EventLoop) {
    if (streamReader !== null && !(streamReader instanceof StreamReader)) {
      throw new TypeError(`new StreamReaderProtocol(): streamReader must be a StreamReader or null, got ${describeValue(streamReader)}`);
    }
    if (clientConnectedCb !== null && clientConnectedCb !== undefined && typeof clientConnectedCb !== 'function') {
      throw new TypeError(`new StreamReaderProtocol(): clientConnectedCb must be a function (reader, writer) => ..., got ${describeValue(clientConnectedCb)}`);
    }
    if (clientConnectedCb && streamReader === null) {
      throw new TypeError('new StreamReaderProtocol(): a clientConnectedCb needs a streamReader to pass it');
    }
    const chosen = loop ?? streamReader?._eventLoop ?? runningLoopOrNull();
    if (chosen === null) throw new RuntimeError('new StreamReaderProtocol(): no running event loop; pass the loop');
    super(chosen);
    this._reader = streamReader;
    this._clientConnectedCb = clientConnectedCb ?? null;
    this._closed = chosen.createFuture<void>();
  }

  /** Gives the reader its transport (for read flow control) and, on a server, calls the client-connected callback. */
  connectionMade(transport: Transport): void {
    this._transport = transport;
    const reader = this._reader;
    reader?.setTransport(transport);
    this._overSsl = transport.getExtraInfo('sslcontext') != null;
    const callback = this._clientConnectedCb;
    if (callback === null || reader === null) return;
    const loop = this.eventLoop;
    const writer = new StreamWriter(transport, this, reader, loop);
    this._writer = writer;
    let task: Future<void> | null = null;
    if (isAsyncFunction(callback)) {
      // asyncio: the coroutine becomes a task; its body starts in a later iteration, inside the task.
      task = loop.createTask(() => callback(reader, writer), { name: 'client_connected_cb' });
    } else {
      const result = callback(reader, writer);
      // A plain function that returned a promise: already running; watched for its failure.
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<void>).then === 'function') {
        task = wrapFuture(result as PromiseLike<void>, loop);
      }
    }
    if (task === null) return;
    this._task = task;
    task.addDoneCallback((done) => {
      if (done.cancelled()) {
        transport.close();
        return;
      }
      const exception = done.exception();
      if (exception !== null) {
        loop.callExceptionHandler({ message: 'Unhandled exception in client_connected_cb', exception, transport });
        transport.close();
      }
    });
  }

  /** Feeds `data` to the reader. */
  dataReceived(data: Buffer): void {
    this._reader?.feedData(data);
  }

  /** Feeds EOF to the reader; keeps the transport open for writing (a half-close), except over TLS. */
  eofReceived(): boolean {
    this._reader?.feedEof();
    return !this._overSsl;
  }

  /** Ends the reader (EOF, or `exc`), settles `waitClosed()` and wakes a waiting `drain()`. */
  override connectionLost(exc: Error | null): void {
    const reader = this._reader;
    if (reader !== null) {
      if (exc === null) reader.feedEof();
      else reader.setException(exc);
    }
    const closed = this._closed;
    if (!closed.done()) {
      if (exc === null) closed.setResult(undefined);
      else {
        closed._setException(exc);
        closed.exception(); // retrieved: waitClosed() reports it to whoever asks, as asyncio's __del__ marks it
      }
    }
    super.connectionLost(exc);
    this._reader = null;
    this._writer = null;
    this._task = null;
    this._transport = null;
  }

  /** The future `StreamWriter.waitClosed()` awaits. */
  [CLOSE_WAITER](_writer: StreamWriter): Future<void> {
    return this._closed;
  }

  override toString(): string {
    return `<StreamReaderProtocol${this._transport === null ? '' : ` transport=${String(this._transport)}`}${this._task === null ? '' : ' task'}${this._writer === null ? '' : ' writer'}>`;
  }
}
