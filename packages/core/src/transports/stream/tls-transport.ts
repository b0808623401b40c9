/**
 * The TLS stream transport: asyncio's `_SSLProtocolTransport` over Node's
 * `tls.TLSSocket`, a sibling of the socket transport on the shared stream
 * machinery (one read/write path, one flow control). @aioloop/net runs the
 * handshake and builds it.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { EventLoop } from '../../loop/event-loop.js';
import type { TimerHandle } from '../../loop/handles.js';
import type { Future } from '../../futures/future.js';
import { TimeoutError } from '../../errors.js';
import type { AnyProtocolLike } from '../protocols.js';
import type { Transport } from '../transports.js';
import type { TransportServer } from './base.js';
import { DuplexStreamTransport } from './duplex-transport.js';

/**
 * (For @aioloop/net through `@aioloop/core/internal`.) Keeps an error of a TLS socket between its handshake and its
 * transport from crashing the process; the transport removes it when it takes over.
 */
export function parkedTlsErrorListener(): void {}

/** How {@link TlsTransport} is built (by the connection methods, servers and startTls). */
export interface TlsTransportOptions {
  /** The socket under the TLS layer: `'socket'`, and where peername/sockname come from. */
  rawSocket: net.Socket;
  /** `'sslcontext'`. */
  context: tls.SecureContext;
  /** Seconds close() waits for the peer's close_notify before force-closing with a TimeoutError. */
  shutdownTimeout: number;
  /** Resolved right after `connectionMade` ran. */
  waiter?: Future<void> | null;
  /** The server that accepted the connection. */
  server?: TransportServer | null;
  /** Extra info overriding what the transport computes (Unix paths). */
  extra?: Record<string, unknown>;
  /** startTls: the protocol already had connectionMade (asyncio's call_connection_made=False). */
  skipConnectionMade?: boolean;
}

/** asyncio's `write_eof()` on a TLS transport raises Python's NotImplementedError. */
export class NotImplementedError extends Error {
  override name = 'NotImplementedError';
}

/** asyncio's address tuple. */
function addressTuple(host: string | undefined, port: number | undefined): unknown {
  if (host === undefined || host === '') return undefined;
  return host.includes(':') ? [host, port ?? 0, 0, 0] : [host, port ?? 0];
}

// Secret bits of the common cipher suites (asyncio's cipher() third field); Node reports only name and version.
function cipherBits(name: string): number | null {
  if (/CHACHA20/.test(name)) return 256;
  const match = /(?:AES|CAMELLIA|ARIA)[_-]?(128|256)/.exec(name);
  return match === null ? null : Number(match[1]);
}

const SHUTDOWN_NONE = 0;
const SHUTDOWN_STARTED = 1;

/**
 * A TLS connection as an asyncio stream transport (`Transport`): created once
 * the handshake has completed, so `connectionMade` sees a verified peer.
 *
 * - Reads and writes, water marks, `pauseWriting`/`resumeWriting`,
 *   `pauseReading`/`resumeReading`, Protocol and BufferedProtocol: as on a
 *   socket transport (the same machinery), with the plaintext.
 * - `close()` flushes, sends close_notify, then waits up to `shutdownTimeout`
 *   seconds for the peer's close_notify (or its close) before
 *   `connectionLost(null)`; when that time runs out the connection is closed
 *   and `connectionLost` gets a TimeoutError ('SSL shutdown timed out').
 * - The peer's close_notify calls `eofReceived()`; TLS has no half-close, so
 *   the transport then closes whatever it returns (as asyncio).
 * - `canWriteEof()` is false and `writeEof()` throws NotImplementedError.
 * - `abort()` closes at once without close_notify.
 * - Extra info: `'sslcontext'`, `'peercert'` (Node's `getPeerCertificate()`,
 *   null without one), `'cipher'` (`[name, version, secretBits]`),
 *   `'compression'` (null: TLS compression is never used), `'ssl_object'`
 *   (the `tls.TLSSocket`), `'peername'`, `'sockname'`, `'socket'` (the
 *   `net.Socket` under TLS).
 */
export class TlsTransport extends DuplexStreamTransport implements Transport {
  /** @internal */ readonly _raw: net.Socket;
  /** @internal */ readonly _context: tls.SecureContext;
  /** @internal */ readonly _shutdownTimeout: number;
  /** @internal */ _shutdown = SHUTDOWN_NONE;
  /** @internal */ _shutdownTimer: TimerHandle | null = null;
  /** @internal Captured at construction: Node forgets them once the socket closes. */
  readonly _peer: unknown;
  /** @internal */ readonly _sock: unknown;
  /** @internal The handshake's results, taken at once as asyncio does (Node drops them when the socket closes). */
  readonly _peercert: unknown;
  /** @internal */ readonly _cipher: unknown;

  constructor(loop: EventLoop, socket: tls.TLSSocket, protocol: AnyProtocolLike, options: TlsTransportOptions) {
    super(loop, protocol, { waiter: options.waiter ?? null, server: options.server ?? null, extra: options.extra ?? {} }, socket, true, true);
    (socket as tls.TLSSocket & { allowHalfOpen: boolean }).allowHalfOpen = true;
    this._raw = options.rawSocket;
    this._context = options.context;
    this._shutdownTimeout = options.shutdownTimeout;
    const raw = options.rawSocket;
    this._peer = addressTuple(raw.remoteAddress ?? socket.remoteAddress, raw.remotePort ?? socket.remotePort);
    this._sock = addressTuple(raw.localAddress ?? socket.localAddress, raw.localPort ?? socket.localPort);
    const cert = socket.getPeerCertificate();
    this._peercert = cert === null || cert === undefined || Object.keys(cert).length === 0 ? null : cert;
    const cipher = socket.getCipher();
    this._cipher = cipher === null || cipher === undefined ? undefined : [cipher.name, cipher.version, cipherBits(cipher.name)];
    this._begin();
    socket.off('error', parkedTlsErrorListener);
    if (options.skipConnectionMade === true) this._skipConnectionMade = true;
  }

  /** @internal startTls: the protocol's connectionMade already ran on the plain transport. */
  _skipConnectionMade = false;

  /** The `tls.TLSSocket`. */
  get stream(): tls.TLSSocket {
    return this._stream as tls.TLSSocket;
  }

  /** @internal */
  get _kind(): string {
    return 'socket';
  }

  override _connectionMade(): void {
    if (!this._skipConnectionMade) {
      super._connectionMade();
      return;
    }
    // asyncio's start_tls (call_connection_made=False): straight to reading.
    const protocol = this._protocol;
    const made = protocol.connectionMade;
    protocol.connectionMade = () => {};
    try {
      super._connectionMade();
    } finally {
      if (made === undefined) delete (protocol as { connectionMade?: unknown }).connectionMade;
      else protocol.connectionMade = made;
    }
  }

  /** Extra info `'sslcontext'`, `'ssl_object'`, `'peercert'`, `'cipher'`, `'compression'`, `'socket'`, `'peername'`, `'sockname'`. */
  protected override extraInfo(name: string): unknown {
    const socket = this._stream as tls.TLSSocket;
    switch (name) {
      case 'sslcontext':
        return this._context;
      case 'ssl_object':
        return socket;
      case 'peercert':
        return this._peercert;
      case 'cipher':
        return this._cipher;
      case 'compression':
        return null;
      case 'socket':
        return this._raw;
      case 'peername':
        return this._peer;
      case 'sockname':
        return this._sock;
      default:
        return undefined;
    }
  }

  /** @internal TLS has no half-close: the peer's close_notify reaches eofReceived, then the transport closes (asyncio's _do_read_into_void path). */
  override _deliverEof(): void {
    if (this._closing) return;
    try {
      this._protocol.eofReceived?.();
    } catch (exc) {
      this._fatalError(exc, 'Error calling eof_received()');
      return;
    }
    this.close();
  }

  /** @internal A graceful close with the buffer flushed: send close_notify and wait for the peer's before connectionLost. */
  override _scheduleLost(exc: Error | null): void {
    const socket = this._stream as tls.TLSSocket;
    if (exc === null && this._shutdown === SHUTDOWN_NONE && !this._lostScheduled && !socket.destroyed) {
      this._shutdown = SHUTDOWN_STARTED;
      this._shutdownTimer = this._loop.callLater(this._shutdownTimeout, () => {
        this._shutdownTimer = null;
        this._forceClose(new TimeoutError('SSL shutdown timed out'));
      });
      socket.resume(); // read (and drop) until the peer's close_notify
      socket.end(); // our close_notify
      return;
    }
    if (this._shutdownTimer !== null) {
      this._shutdownTimer.cancel();
      this._shutdownTimer = null;
    }
    super._scheduleLost(exc);
  }

  /** Plaintext bytes Node has not passed to the TLS layer yet (libuv's queue holds ciphertext, which does not match them). */
  override getWriteBufferSize(): number {
    return this._bufferSize();
  }

  /** TLS has no half-close: throws NotImplementedError, as asyncio. */
  writeEof(): void {
    throw new NotImplementedError('writeEof(): TLS transports cannot half-close (canWriteEof() is false); use close(), which sends close_notify');
  }

  /** false: TLS has no half-close. */
  canWriteEof(): boolean {
    return false;
  }
}
