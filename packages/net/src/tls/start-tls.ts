/**
 * asyncio's `loop.start_tls()`: upgrades a live plain connection (STARTTLS)
 * and returns the TLS transport that the protocol uses from then on.
 */
import { describeValue } from '@aioloop/core';
import net from 'node:net';
import { RuntimeError, StreamTransport, TRANSPORT_DETACHED, TlsTransport, wrapFuture, type AnyProtocolLike, type EventLoop, type Task } from '@aioloop/core';
import { checkLoop, takeOverStream } from '@aioloop/core/internal';
import { SSL_HANDSHAKE_TIMEOUT, SSL_SHUTDOWN_TIMEOUT, sslConfig, type SslOption } from './context.js';
import { tlsHandshake } from './handshake.js';

/** Options of {@link startTls} (asyncio's keywords). */
export interface StartTlsOptions {
  /** Play the server side of the handshake (default false). */
  serverSide?: boolean;
  /** Client: the name the peer's certificate must carry (and SNI); '' turns host-name checking off. */
  serverHostname?: string | null;
  /** Seconds the handshake may take (default 60). */
  sslHandshakeTimeout?: number | null;
  /** Seconds close() of the new transport waits for the peer's close_notify (default 30). */
  sslShutdownTimeout?: number | null;
}

// The public methods of the plain transport that throw once it was upgraded.
const RETIRED_METHODS = [
  'write',
  'writelines',
  'writeEof',
  'close',
  'abort',
  'pauseReading',
  'resumeReading',
  'setProtocol',
  'setWriteBufferLimits',
] as const;

/** Makes every use of `transport` after the upgrade a clear error; reads of its state keep working. */
function retire(transport: StreamTransport): void {
  const fail = (name: string) => (): never => {
    throw new RuntimeError(`${name}(): this transport was upgraded by startTls(); use the transport startTls() resolved with`);
  };
  for (const name of RETIRED_METHODS) Object.defineProperty(transport, name, { value: fail(name), configurable: true });
  Object.defineProperty(transport, 'isClosing', { value: () => true, configurable: true });
}

function checkTimeout(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`startTls(): ${name} must be a positive number of seconds, got ${describeValue(value)}`);
  }
  return value;
}

/** Resolves once Node has passed every byte written to the plain transport to the kernel: plaintext must precede the handshake. */
async function flushed(loop: EventLoop, transport: StreamTransport, socket: net.Socket): Promise<void> {
  while (transport.getWriteBufferSize() > 0 && !socket.destroyed) {
    await wrapFuture(new Promise<void>((resolve) => socket.once('drain', resolve)), loop);
  }
}

/**
 * asyncio's `loop.start_tls(transport, protocol, sslcontext, ...)`: upgrades
 * the connection under `transport` (a TCP or Unix stream transport) to TLS
 * and resolves with the new {@link TlsTransport}, which carries `protocol`
 * from then on (its `connectionMade` is not called again, as asyncio).
 *
 * Reading on the plain transport is paused at once (inside the call, so a
 * protocol can call this from `dataReceived`/`bufferUpdated` and no later
 * byte reaches it). Bytes the plain transport had received but not delivered
 * — the peer may send its first TLS bytes right behind its last plain line —
 * go to the TLS layer first, so nothing is lost or misread; bytes already
 * delivered to the protocol are its own. Plaintext still being written is
 * flushed before the handshake starts.
 *
 * Afterwards the plain transport refuses every use (`write`, `close`, ...)
 * with a RuntimeError naming startTls. If the handshake fails (verification,
 * timeout), the connection is closed and the task rejects with the error.
 */
export function startTls(
  loop: EventLoop,
  transport: StreamTransport,
  protocol: AnyProtocolLike,
  sslcontext: SslOption,
  options: StartTlsOptions = {},
): Task<TlsTransport> {
  checkLoop(loop, 'startTls()');
  if (!(transport instanceof StreamTransport) || !(transport.stream instanceof net.Socket)) {
    throw new TypeError(`startTls(): transport ${describeValue(transport)} is not supported by startTls() (a TCP or Unix stream transport is)`);
  }
  if (protocol === null || typeof protocol !== 'object') {
    throw new TypeError(`startTls(): protocol must be a protocol object, got ${describeValue(protocol)}`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError(`startTls(): options must be an object, got ${describeValue(options)}`);
  const serverSide = options.serverSide ?? false;
  if (typeof serverSide !== 'boolean') throw new TypeError(`startTls(): serverSide must be a boolean, got ${describeValue(serverSide)}`);
  const ssl = sslConfig(sslcontext, 'startTls', serverSide);
  const serverHostname = options.serverHostname ?? null;
  if (serverHostname !== null && typeof serverHostname !== 'string') {
    throw new TypeError(`startTls(): serverHostname must be a string ('' turns host-name checking off) or null, got ${describeValue(serverHostname)}`);
  }
  if (!serverSide && serverHostname === null && ssl.rejectUnauthorized) {
    throw new TypeError("startTls(): a verifying client needs serverHostname (the name the peer's certificate must carry; '' turns only the name check off)");
  }
  const handshakeTimeout = checkTimeout(options.sslHandshakeTimeout, 'sslHandshakeTimeout', SSL_HANDSHAKE_TIMEOUT);
  const shutdownTimeout = checkTimeout(options.sslShutdownTimeout, 'sslShutdownTimeout', SSL_SHUTDOWN_TIMEOUT);
  if (transport.isClosing()) throw new RuntimeError('startTls(): the transport is closing');

  // asyncio pauses before anything else, so no byte meant for TLS reaches the protocol.
  transport.pauseReading();
  const raw = transport.stream as net.Socket;
  return loop.createTask(async () => {
    await flushed(loop, transport, raw);
    // Take the connection over: undelivered bytes, the server's bookkeeping, the socket's events.
    const peer = transport.getExtraInfo('peername');
    const sock = transport.getExtraInfo('sockname');
    const { held, server, extra } = takeOverStream(transport);
    retire(transport);
    let socket;
    try {
      socket = await tlsHandshake(loop, raw, { serverSide, ssl, serverHostname, handshakeTimeout, held });
    } catch (error) {
      server?.[TRANSPORT_DETACHED](transport);
      throw error;
    }
    // Attached under the new transport before the old one leaves, so the server never looks idle meanwhile.
    const upgraded = new TlsTransport(loop, socket, protocol, {
      rawSocket: raw,
      context: ssl.context,
      shutdownTimeout,
      server,
      extra: { peername: peer, sockname: sock, ...(extra ?? {}) },
      skipConnectionMade: true,
    });
    server?.[TRANSPORT_DETACHED](transport);
    return upgraded;
  }, { name: 'startTls' });
}
