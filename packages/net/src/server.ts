/**
 * asyncio's `loop.create_server` and `Server` (Python 3.12+ semantics:
 * `waitClosed()` waits for every accepted connection; 3.13's `closeClients`,
 * `abortClients`), over Node's `net.Server`.
 */
import net from 'node:net';
import {
  CancelledError,
  RuntimeError,
  StreamTransport,
  fileno,
  wrapFuture,
  type StreamTransportConstructorOptions,
  type AnyProtocolLike,
  type BaseTransport,
  type EventLoop,
  type Future,
  type Task,
  type TransportServer,
  CONNECTION_MADE_FAILED,
  TRANSPORT_ATTACHED,
  TRANSPORT_DETACHED,
} from '@aioloop/core';
import { describeValue } from '@aioloop/core';
import { RELEASE_ON_LOOP_CLOSE, RESOURCE_KIND, checkLoop, trackResource, untrackResource } from '@aioloop/core/internal';
import { ensureResolved } from './resolve.js';
import { awaitOrClose } from './await-or-close.js';
import { checkTlsKeywords, type SslOption } from './tls/context.js';
import { acceptTls, type TlsConnectionSettings } from './tls/connection.js';
import { AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, AI_PASSIVE, IPPROTO_TCP, SOCK_STREAM, pythonRepr, type AddrInfo, type PortLike, type SockAddr } from './dns.js';
import { checkFactory, type ProtocolFactory } from './protocol-factory.js';
import { checkFactoryResult, checkOptionKeys, checkPortArg } from './socket-transport.js';
import { nativeBinding } from './native/binding.js';
import { listenOptionsFor, reusePortListener } from './native/handover.js';
import { Socket, type SocketAddress } from './native/socket.js';



/** asyncio's default listen backlog. */
export const DEFAULT_BACKLOG = 100;

/**
 * What `sock` may be for the server methods: a bound stream {@link Socket}
 * (the server owns it), a Node server (listening or not), a listening handle
 * `{ fd }`, or a file descriptor.
 */
export type ServerSockLike = Socket | net.Server | { fd: number } | number;

/** Options of {@link createServer}, named as asyncio's `create_server` keywords. */
export interface CreateServerOptions {
  /** AF_UNSPEC (default), AF_INET or AF_INET6: which addresses of `host` to bind. */
  family?: number;
  /** getaddrinfo flags, OR-ed with AI_PASSIVE. */
  flags?: number;
  /** An existing server socket to use instead of host/port (see {@link ServerSockLike}). */
  sock?: ServerSockLike | null;
  /** The listen() backlog (default 100). */
  backlog?: number;
  /** TLS: serve TLS with this context (a `tls.SecureContext` or secure-context options with `cert` and `key`). */
  ssl?: SslOption | null | false;
  /**
   * SO_REUSEADDR. Node (libuv) always sets it on listening TCP sockets on Unix,
   * which is asyncio's default there too; `false` cannot be honoured and throws.
   */
  reuseAddress?: boolean | null;
  /** SO_REUSEPORT: Node 22.12+ sets it itself; older Node binds through @aioloop/native-sockets. */
  reusePort?: boolean | null;
  /** SO_KEEPALIVE on accepted connections (Python 3.13's keep_alive). */
  keepAlive?: boolean | null;
  /** Start accepting at once (default true); see {@link Server.startServing}. */
  startServing?: boolean;
  /** TLS only (throws without `ssl`): seconds an accepted connection's handshake may take (default 60). */
  sslHandshakeTimeout?: number | null;
  /** TLS only (throws without `ssl`): seconds close() waits for the peer's close_notify (default 30). */
  sslShutdownTimeout?: number | null;
}

/**
 * One listening socket of a {@link Server}, as asyncio's `TransportSocket` shows
 * it. `A` is what `getsockname()` returns: `SockAddr` for TCP servers (so
 * `getsockname()[1]` is the port, a number), `string` for Unix servers.
 */
export class ServerSocket<A extends SockAddr | string = SockAddr | string> {
  /** @internal */
  constructor(
    /** The Node server behind this socket. */
    readonly netServer: net.Server,
    private readonly unixPath: string | null,
  ) {}

  /** AF_INET, AF_INET6 or AF_UNIX. */
  get family(): number {
    if (this.unixPath !== null) return AF_UNIX;
    const address = this.netServer.address();
    return address !== null && typeof address === 'object' && address.family === 'IPv6' ? AF_INET6 : AF_INET;
  }

  /** SOCK_STREAM. */
  get type(): number {
    return SOCK_STREAM;
  }

  /** IPPROTO_TCP for TCP, 0 for Unix sockets. */
  get proto(): number {
    return this.unixPath !== null ? 0 : IPPROTO_TCP;
  }

  /** The bound address: `[host, port]`, `[host, port, flowinfo, scopeid]` for IPv6, or the Unix path. */
  getsockname(): A {
    if (this.unixPath !== null) return this.unixPath as A;
    const address = this.netServer.address();
    if (address === null || typeof address !== 'object') return (typeof address === 'string' ? address : '') as A;
    return (address.family === 'IPv6' ? [address.address, address.port, 0, 0] : [address.address, address.port]) as A;
  }

  /** The file descriptor, or -1 when Node does not expose it. */
  fileno(): number {
    return fileno(this.netServer);
  }

  toString(): string {
    const name: SockAddr | string = this.getsockname();
    return `<ServerSocket family=${this.family} laddr=${typeof name === 'string' ? JSON.stringify(name) : `(${name.map((v) => JSON.stringify(v)).join(', ')})`}>`;
  }
}

/** @internal What unix.ts passes for a Unix server. */
export interface UnixServerInfo {
  /** The bound path (or '\0name'). */
  path: string;
}

/**
 * A listening server (asyncio.Server). Created by `loop.createServer()` /
 * `loop.createUnixServer()`.
 *
 * Node adaptation for `startServing: false`: Node cannot listen without
 * accepting. The sockets are bound and listening (clients' connects complete,
 * as they do against asyncio's not-yet-serving server, whose kernel backlog
 * completes the handshake), and connections accepted meanwhile are held
 * unread and unanswered — no protocol is created — until `startServing()` or
 * `serveForever()`; `close()` before that resets them, as closing a listening
 * socket resets its unaccepted backlog. Unlike a kernel backlog, `backlog`
 * does not cap how many are held.
 */
export class Server<A extends SockAddr | string = SockAddr | string> implements TransportServer, AsyncDisposable {
  private _listeners: net.Server[] | null;
  private _serving = false;
  private _activeCount = 0;
  private readonly _clients = new Set<BaseTransport>();
  private _waiters: Future<void>[] | null = [];
  private _servingForeverFut: Future<void> | null = null;
  private _held: net.Socket[] = [];

  /** @internal Use `loop.createServer()`. */
  constructor(
    private readonly _loop: EventLoop,
    listeners: net.Server[],
    private readonly _protocolFactory: ProtocolFactory<AnyProtocolLike>,
    private readonly _unix: UnixServerInfo | null = null,
    private readonly _tls: TlsConnectionSettings | null = null,
  ) {
    this._listeners = listeners;
    for (const listener of listeners) {
      (listener as net.Server & { pauseOnConnect: boolean }).pauseOnConnect = true;
      listener.on('connection', this._onConnection);
      listener.on('error', this._onListenerError);
    }
    trackResource(_loop, this);
  }

  /** @internal */
  get [RESOURCE_KIND](): string {
    return 'server';
  }

  /** @internal The loop closed with this server open: its listening and held sockets must not keep the process alive. */
  [RELEASE_ON_LOOP_CLOSE](): void {
    for (const listener of this._listeners ?? []) listener.unref();
    for (const sock of this._held) sock.unref();
  }

  /** The loop the server runs on. */
  getLoop(): EventLoop {
    return this._loop;
  }

  /** Whether the server accepts connections (after start, before close). */
  isServing(): boolean {
    return this._serving;
  }

  /** The listening sockets (empty after `close()`). */
  get sockets(): readonly ServerSocket<A>[] {
    const listeners = this._listeners;
    if (listeners === null) return [];
    return listeners.map((l) => new ServerSocket<A>(l, this._unix?.path ?? null));
  }

  /**
   * Starts accepting (no-op if serving). Resolves one loop iteration later, as
   * asyncio's `await server.start_serving()`.
   */
  startServing(this: object): Future<void>;
  startServing(): Future<void> {
    this._startServing();
    return sleep0(this._loop);
  }

  /**
   * Accepts connections until cancelled; cancelling it closes the server and
   * waits for it to close. Throws a RuntimeError if the server is closed or
   * another serveForever() is running.
   */
  serveForever(this: object): Task<void>;
  serveForever(): Task<void> {
    if (this._servingForeverFut !== null) {
      throw new RuntimeError(`server ${this.toString()} is already being awaited on serveForever()`);
    }
    if (this._listeners === null) throw new RuntimeError(`server ${this.toString()} is closed`);
    this._startServing();
    const forever = this._loop.createFuture<void>();
    this._servingForeverFut = forever;
    return this._loop.createTask(async () => {
      try {
        await forever;
      } catch (error) {
        if (error instanceof CancelledError) {
          try {
            this.close();
            await this.waitClosed();
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw error;
          }
        }
        throw error;
      } finally {
        if (this._servingForeverFut === forever) this._servingForeverFut = null;
      }
    }, { name: 'Server.serveForever' });
  }

  /**
   * Stops listening: the listening sockets close; connections already accepted
   * stay open (see `closeClients()`). Idempotent.
   */
  close(this: object): void;
  close(): void {
    const listeners = this._listeners;
    if (listeners === null) return;
    this._listeners = null;
    this._serving = false;
    untrackResource(this._loop, this);
    for (const listener of listeners) {
      listener.off('connection', this._onConnection);
      listener.close();
    }
    // As closing a listening socket resets its unaccepted backlog.
    for (const sock of this._held) sock.resetAndDestroy();
    this._held = [];
    const forever = this._servingForeverFut;
    this._servingForeverFut = null;
    if (forever !== null && !forever.done()) forever.cancel();
    if (this._activeCount === 0) this._wakeup();
  }

  /** Calls `close()` on every open connection's transport. */
  closeClients(this: object): void;
  closeClients(): void {
    for (const transport of [...this._clients]) transport.close();
  }

  /** Calls `abort()` on every open connection's transport. */
  abortClients(this: object): void;
  abortClients(): void {
    for (const transport of [...this._clients]) (transport as StreamTransport).abort();
  }

  /**
   * Resolves once the server is closed AND every connection it accepted has
   * closed (Python 3.12+). Before `close()` it keeps waiting; after that
   * point has been reached, it resolves at once.
   */
  waitClosed(this: object): Future<void>;
  waitClosed(): Future<void> {
    const waiter = this._loop.createFuture<void>();
    if (this._waiters === null) waiter.setResult(undefined);
    else this._waiters.push(waiter);
    return waiter;
  }

  /** `await using server = ...`: closes and waits for `waitClosed()`. */
  [Symbol.asyncDispose](): Future<void> {
    this.close();
    return this.waitClosed();
  }

  /** A transport for an accepted connection was created (core's {@link TransportServer} hook). */
  [TRANSPORT_ATTACHED](transport: BaseTransport): void {
    this._activeCount++;
    this._clients.add(transport);
  }

  /** That transport's connectionLost ran (core's {@link TransportServer} hook). */
  [TRANSPORT_DETACHED](transport: BaseTransport): void {
    this._activeCount--;
    this._clients.delete(transport);
    if (this._activeCount === 0 && this._listeners === null) this._wakeup();
  }

  /** @internal */
  _startServing(): void {
    if (this._serving || this._listeners === null) return;
    this._serving = true;
    const held = this._held;
    this._held = [];
    for (const sock of held) this._loop.callSoon(this._accept, sock);
  }

  private _wakeup(): void {
    const waiters = this._waiters;
    this._waiters = null;
    if (waiters === null) return;
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(undefined);
  }

  private readonly _onConnection = (sock: net.Socket): void => {
    if (this._listeners === null || this._loop.isClosed()) {
      sock.destroy();
      return;
    }
    if (!this._serving) {
      sock.on('error', noop); // held, not yet ours: a reset must not crash
      this._held.push(sock);
      return;
    }
    this._loop.callSoon(this._accept, sock);
  };

  private readonly _onListenerError = (error: Error): void => {
    if (this._loop.isClosed()) return;
    this._loop.callExceptionHandler({ message: 'socket.accept() failed', exception: error, socket: this });
  };

  /** A loop callback (asyncio's `_accept_connection2`): protocol, transport, wait for connectionMade. */
  private readonly _accept = (sock: net.Socket): void => {
    if (sock.destroyed) return;
    sock.off('error', noop);
    let protocol: AnyProtocolLike;
    try {
      protocol = this._protocolFactory();
      checkFactoryResult(protocol, this._unix === null ? 'createServer' : 'createUnixServer');
    } catch (exception) {
      sock.destroy();
      this._loop.callExceptionHandler({ message: 'Error on transport creation for incoming connection', exception, socket: sock });
      return;
    }
    // No waiter Future per connection: if connectionMade throws, the transport
    // calls its CONNECTION_MADE_FAILED hook (asyncio's "Error on transport creation").
    // Read through the shared scratch (core's readIntoBuffers), for every kind of
    // protocol: no 64 KiB buffer allocated per read and no Readable machinery
    // (bench/README.md has the measurements).
    const options: StreamTransportConstructorOptions = { server: this, readIntoBuffers: true };
    if (this._unix !== null) options.extra = { sockname: this._unix.path, peername: '' };
    else sock.setNoDelay(true); // TCP_NODELAY, as asyncio sets on every TCP transport
    try {
      if (this._tls !== null) acceptTls(this._loop, sock, protocol, this._tls, this, options.extra);
      else new StreamTransport(this._loop, sock, protocol, options);
    } catch (exception) {
      sock.destroy();
      this._loop.callExceptionHandler({ message: 'Error on transport creation for incoming connection', exception, socket: sock, protocol });
    }
  };

  /** A connection's `connectionMade` threw: reported as asyncio reports a failed accept; the transport then closes with connectionLost(exc) (core's {@link TransportServer} hook). */
  [CONNECTION_MADE_FAILED](transport: BaseTransport, exception: unknown): void {
    this._loop.callExceptionHandler({
      message: 'Error on transport creation for incoming connection',
      exception,
      protocol: transport.getProtocol(),
      transport,
    });
  }

  toString(): string {
    const socks = this.sockets.map((s) => s.toString()).join(', ');
    return `<Server sockets=(${socks})>`;
  }
}

function noop(): void {}

const CREATE_SERVER_OPTIONS = ['family', 'flags', 'sock', 'backlog', 'ssl', 'reuseAddress', 'reusePort', 'keepAlive', 'startServing', 'sslHandshakeTimeout', 'sslShutdownTimeout'] as const;

/** Validates the options shared by createServer and createUnixServer; returns the backlog and the TLS settings (null: plain). */
export function checkServerOptions(options: unknown, method: string): { backlog: number; tls: TlsConnectionSettings | null } {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${method}(): options must be an object such as { backlog: 100 }, got ${describeValue(options)}`);
  }
  const o = options as CreateServerOptions;
  const keywords = checkTlsKeywords(options as Record<string, unknown>, method, 'server');
  const tls = keywords.ssl === null ? null : { ...keywords, ssl: keywords.ssl };
  const backlog = o.backlog ?? DEFAULT_BACKLOG;
  if (typeof backlog !== 'number' || !Number.isInteger(backlog) || backlog < 0) {
    throw new TypeError(`${method}(): backlog must be a whole number >= 0, got ${describeValue(o.backlog)}`);
  }
  if (o.startServing !== undefined && typeof o.startServing !== 'boolean') {
    throw new TypeError(`${method}(): startServing must be a boolean, got ${describeValue(o.startServing)}`);
  }
  return { backlog, tls };
}

/** Whether this Node can set SO_REUSEPORT on a TCP server (Node 22.12+ / 23.1+). */
export function reusePortSupported(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** Turns a socket given as `sock` into a Node server (not yet listening if it was only a handle). */
function serverFromSock(sock: ServerSockLike, method: string, keepAlive: boolean): { server: net.Server; listen: net.ListenOptions | null } {
  if (sock instanceof net.Server) return { server: sock, listen: null };
  if (sock instanceof Socket) {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, keepAlive });
    return { server, listen: listenOptionsFor(sock, server, method) };
  }
  const fd = typeof sock === 'number' ? sock : sock !== null && typeof sock === 'object' && typeof (sock as { fd?: unknown }).fd === 'number' ? (sock as { fd: number }).fd : undefined;
  if (fd === undefined || !Number.isInteger(fd) || fd < 0) {
    throw new TypeError(`${method}(): sock must be a Socket, a net.Server, a listening handle { fd } or a file descriptor number, got ${describeValue(sock)}`);
  }
  return { server: net.createServer({ allowHalfOpen: true, pauseOnConnect: true, keepAlive }), listen: { fd } as net.ListenOptions };
}

/** Starts `server` listening and waits for 'listening' or the error. */
export function listen(loop: EventLoop, server: net.Server, options: net.ListenOptions): Future<void> {
  return wrapFuture(
    new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        server.off('listening', onListening);
        reject(error);
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(options);
    }),
    loop,
  );
}

/** Makes the asyncio-style bind error (keeping Node's code/errno). */
function bindError(error: unknown, address: readonly unknown[] | string): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const e = error as NodeJS.ErrnoException;
  const shown = pythonRepr(address);
  const reason = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : e.code === 'EACCES' ? 'permission denied' : e.message;
  const wrapped = new Error(`error while attempting to bind on address ${shown}: ${reason}`, { cause: error }) as NodeJS.ErrnoException;
  wrapped.code = e.code;
  wrapped.errno = e.errno;
  wrapped.syscall = e.syscall;
  return wrapped;
}

/** The arguments of {@link createServer} in their most general form. */
type CreateServerArgs = [
  loop: EventLoop,
  protocolFactory: ProtocolFactory<AnyProtocolLike>,
  host: string | readonly string[] | null | undefined,
  port: PortLike,
  options?: CreateServerOptions,
];

/**
 * asyncio's `loop.create_server(protocol_factory, host, port, ...)`: binds
 * every address `host` resolves to (with AI_PASSIVE; a null or '' host means
 * all interfaces, IPv4 and IPv6 each on its own socket, IPv6 with
 * IPV6_V6ONLY; an array binds each host), then starts serving unless
 * `startServing: false`. Resolves to the {@link Server}. If any bind fails,
 * every socket bound so far is closed and the error (Node's `code` kept,
 * asyncio's message) rejects.
 */
export function createServer(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<AnyProtocolLike>,
  host: null | undefined,
  port: null | undefined,
  options: CreateServerOptions & { sock: ServerSockLike },
): Task<Server<SockAddr | string>>;
export function createServer(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<AnyProtocolLike>,
  host: string | readonly string[] | null | undefined,
  port: PortLike,
  options?: CreateServerOptions & { sock?: null },
): Task<Server<SockAddr>>;
export function createServer(...args: CreateServerArgs): Task<Server<SockAddr | string>>;
export function createServer(...[loop, protocolFactory, host, port, options = {}]: CreateServerArgs): Task<Server<SockAddr | string>> {
  checkLoop(loop, 'createServer()');
  const method = 'createServer';
  checkFactory(protocolFactory, method);
  const { backlog, tls } = checkServerOptions(options, method);
  checkOptionKeys(options, method, CREATE_SERVER_OPTIONS);
  checkPortArg(port, method);
  const reuseAddress = options.reuseAddress;
  if (reuseAddress !== undefined && reuseAddress !== null && typeof reuseAddress !== 'boolean') {
    throw new TypeError(`${method}(): reuseAddress must be a boolean, got ${describeValue(reuseAddress)}`);
  }
  if (reuseAddress === false) {
    throw new RangeError(`${method}(): reuseAddress: false is not supported: Node (libuv) always sets SO_REUSEADDR on listening TCP sockets`);
  }
  const reusePort = options.reusePort ?? false;
  if (typeof reusePort !== 'boolean') throw new TypeError(`${method}(): reusePort must be a boolean, got ${describeValue(reusePort)}`);
  // Node < 22.12 cannot set SO_REUSEPORT: bind through a native socket (throws if that package is missing).
  if (reusePort && !reusePortSupported()) nativeBinding(`${method}({ reusePort: true }) on Node ${process.versions.node} (Node 22.12+ does it without)`);
  const keepAlive = options.keepAlive ?? false;
  if (typeof keepAlive !== 'boolean') throw new TypeError(`${method}(): keepAlive must be a boolean, got ${describeValue(keepAlive)}`);
  const sock = options.sock ?? null;
  const hasHostPort = (host !== null && host !== undefined) || (port !== null && port !== undefined);
  if (sock !== null && hasHostPort) throw new TypeError(`${method}(): host/port and sock can not be specified at the same time`);
  if (sock === null && !hasHostPort) throw new TypeError(`${method}(): Neither host/port nor sock were specified`);
  let hosts: (string | null)[];
  if (host === null || host === undefined || host === '') hosts = [null];
  else if (typeof host === 'string') hosts = [host];
  else if (Array.isArray(host) && host.every((h) => typeof h === 'string')) hosts = host.map((h) => (h === '' ? null : h));
  else throw new TypeError(`${method}(): host must be a string, an array of strings, '' or null (all interfaces), got ${describeValue(host)}`);
  const family = options.family ?? AF_UNSPEC;
  const flags = options.flags ?? 0;
  const startServing = options.startServing ?? true;
  const serverOptions: net.ServerOpts = { allowHalfOpen: true, pauseOnConnect: true, keepAlive };

  return loop.createTask(async () => {
    const listeners: net.Server[] = [];
    try {
      if (sock !== null) {
        const { server, listen: listenOptions } = serverFromSock(sock, method, keepAlive);
        listeners.push(server);
        if (listenOptions !== null) await listen(loop, server, { ...listenOptions, backlog });
        else if (!server.listening) {
          throw new TypeError(`${method}(): the net.Server given as sock must already be listening (call server.listen() first)`);
        }
      } else {
        const infos: AddrInfo[] = [];
        const seen = new Set<string>();
        for (const h of hosts) {
          const found = await wrapFuture(ensureResolved(loop, h, port, { family, type: SOCK_STREAM, flags: flags | AI_PASSIVE }), loop);
          for (const info of found) {
            const key = JSON.stringify([info[0], info[4]]);
            if (!seen.has(key)) {
              seen.add(key);
              infos.push(info);
            }
          }
        }
        if (infos.length === 0) throw new Error('getaddrinfo() returned empty list');
        for (const info of infos) {
          const sa = info[4];
          const server = net.createServer(serverOptions);
          listeners.push(server);
          const listenOptions: net.ListenOptions & { reusePort?: boolean } = { host: sa[0], port: sa[1], backlog, ipv6Only: info[0] === AF_INET6 };
          if (reusePort) listenOptions.reusePort = true;
          try {
            if (reusePort && !reusePortSupported()) {
              const address = (info[0] === AF_INET6 ? [sa[0], sa[1], 0, sa[3] ?? 0] : [sa[0], sa[1]]) as SocketAddress;
              await listen(loop, server, { fd: reusePortListener(info[0], address, backlog), backlog } as net.ListenOptions);
            } else {
              await listen(loop, server, listenOptions);
            }
          } catch (error) {
            throw error instanceof CancelledError ? error : bindError(error, sa);
          }
        }
      }
    } catch (error) {
      for (const l of listeners) if (!(sock instanceof net.Server && l === sock)) closeListener(l);
      throw error;
    }
    return startNewServer(loop, new Server<SockAddr>(loop, listeners, protocolFactory, null, tls), startServing);
  }, { name: 'createServer' });
}

/**
 * Closes a listening socket of a create call that failed or was cancelled; one
 * whose listen() is still under way (Node resolves and binds asynchronously) is
 * closed as soon as it listens, so a cancelled bind never leaves one open.
 */
export function closeListener(listener: net.Server): void {
  if (listener.listening) {
    listener.close();
    return;
  }
  listener.once('listening', () => listener.close());
}

/**
 * The end of createServer/createUnixServer: starts serving unless told not to
 * and waits one iteration (asyncio's `await sleep(0)`); cancelled there, the
 * server is closed instead of left bound and serving with nobody holding it.
 */
export async function startNewServer<S extends Server<SockAddr> | Server<string>>(loop: EventLoop, server: S, startServing: boolean): Promise<S> {
  if (!startServing) return server;
  server._startServing();
  await awaitOrClose(sleep0(loop), server);
  return server;
}

/** `await asyncio.sleep(0)`: one loop iteration. */
export function sleep0(loop: EventLoop): Future<void> {
  const f = loop.createFuture<void>();
  loop.callSoon(() => {
    if (!f.done()) f.setResult(undefined);
  });
  return f;
}
