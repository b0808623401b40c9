/**
 * TypeScript declarations of the loop methods @aioloop/net installs (module
 * augmentation of @aioloop/core's EventLoop).
 */
import type net from 'node:net';
import type { AnyProtocolLike, StreamTransport, Task } from '@aioloop/core';
import type { PortLike, SockAddr } from './dns.js';
import type { ProtocolFactory } from './protocol-factory.js';
import type { Future, ReadPipeTransport, WritePipeTransport } from '@aioloop/core';
import type { AddrInfo, GetaddrinfoOptions } from './dns.js';
import type { PipeLike } from './pipes.js';
import type { CreateServerOptions, Server, ServerSockLike } from './server.js';
import type { SendfileFile } from './native/sock-methods.js';
import type { FileLike, Socket, SocketAddress } from './native/socket.js';
import type { DatagramProtocolLike } from '@aioloop/core';
import type { CreateDatagramEndpointOptions } from './datagram/endpoint.js';
import type { DatagramTransportBase } from './datagram/transport-base.js';
import type { CreateConnectionOptions } from './tcp.js';
import type { CreateUnixConnectionOptions, CreateUnixServerOptions } from './unix.js';
import type { ConnectAcceptedSocketOptions } from './socket-transport.js';
import type { SslOption } from './tls/context.js';
import type { TlsTransport } from '@aioloop/core';
import type { StartTlsOptions } from './tls/start-tls.js';
import type { SendfileOptions, SendfileSource } from './sendfile.js';

declare module '@aioloop/core' {
  /** `getExtraInfo('socket')` of a datagram transport over native sockets is a {@link Socket}. */
  interface TransportSocketTypes {
    native: Socket;
  }

  interface EventLoop {
    // Stream connections and servers: tcp.ts, unix.ts, server.ts, socket-transport.ts (connectAcceptedSocket).
    /**
     * asyncio's `loop.create_connection()`: connects to `host:port` (every
     * address, Happy Eyeballs with `happyEyeballsDelay`) and resolves to
     * `[transport, protocol]` after `connectionMade`.
     */
    createConnection<P extends AnyProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      host: string | null | undefined,
      port: PortLike,
      options: CreateConnectionOptions & { ssl: SslOption },
    ): Task<[TlsTransport, P]>;
    createConnection<P extends AnyProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      host: string | null | undefined,
      port: PortLike,
      options?: CreateConnectionOptions & { ssl?: null | false },
    ): Task<[StreamTransport, P]>;
    createConnection<P extends AnyProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      host: string | null | undefined,
      port: PortLike,
      options?: CreateConnectionOptions,
    ): Task<[StreamTransport | TlsTransport, P]>;
    /**
     * asyncio's `loop.create_server()`: binds every address of `host` (all
     * interfaces for null/'') and resolves to the {@link Server}, whose
     * sockets' `getsockname()` is a `SockAddr`. With `sock` (host and port
     * null), the server serves that socket, which may be a Unix one: its
     * addresses are then `SockAddr | string`.
     */
    createServer(
      protocolFactory: ProtocolFactory<AnyProtocolLike>,
      host: null | undefined,
      port: null | undefined,
      options: CreateServerOptions & { sock: ServerSockLike },
    ): Task<Server<SockAddr | string>>;
    createServer(
      protocolFactory: ProtocolFactory<AnyProtocolLike>,
      host: string | readonly string[] | null | undefined,
      port: PortLike,
      options?: CreateServerOptions & { sock?: null },
    ): Task<Server<SockAddr>>;
    createServer(
      protocolFactory: ProtocolFactory<AnyProtocolLike>,
      host: string | readonly string[] | null | undefined,
      port: PortLike,
      options?: CreateServerOptions,
    ): Task<Server<SockAddr | string>>;
    /** asyncio's `loop.create_unix_connection()`. */
    createUnixConnection<P extends AnyProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      path: string | null | undefined,
      options: CreateUnixConnectionOptions & { ssl: SslOption },
    ): Task<[TlsTransport, P]>;
    createUnixConnection<P extends AnyProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      path: string | null | undefined,
      options?: CreateUnixConnectionOptions & { ssl?: null | false },
    ): Task<[StreamTransport, P]>;
    createUnixConnection<P extends AnyProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      path: string | null | undefined,
      options?: CreateUnixConnectionOptions,
    ): Task<[StreamTransport | TlsTransport, P]>;
    /** asyncio's `loop.create_unix_server()` (stale socket files replaced, abstract names, cleanupSocket). */
    createUnixServer(
      protocolFactory: ProtocolFactory<AnyProtocolLike>,
      path: string | null | undefined,
      options?: CreateUnixServerOptions,
    ): Task<Server<string>>;
    /** asyncio's `loop.connect_accepted_socket()`. */
    connectAcceptedSocket<P extends AnyProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      sock: net.Socket | Socket,
      options: ConnectAcceptedSocketOptions & { ssl: SslOption },
    ): Task<[TlsTransport, P]>;
    connectAcceptedSocket<P extends AnyProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      sock: net.Socket | Socket,
      options?: ConnectAcceptedSocketOptions & { ssl?: null | false },
    ): Task<[StreamTransport, P]>;
    connectAcceptedSocket<P extends AnyProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      sock: net.Socket | Socket,
      options?: ConnectAcceptedSocketOptions,
    ): Task<[StreamTransport | TlsTransport, P]>;
    /**
     * asyncio's `loop.start_tls()`: upgrades the connection under a plain TCP
     * or Unix `transport` to TLS and resolves with the new transport (see
     * {@link startTls} in @aioloop/net).
     */
    startTls(transport: StreamTransport, protocol: AnyProtocolLike, sslcontext: SslOption, options?: StartTlsOptions): Task<TlsTransport>;
    /**
     * asyncio's `loop.sendfile()`: sends `count` bytes (null: to the end) of
     * `file` from `offset` over a stream or TLS transport; resolves with the
     * bytes sent (see {@link sendfile} in @aioloop/net).
     */
    sendfile(transport: StreamTransport | TlsTransport, file: SendfileSource, offset?: number, count?: number | null, options?: SendfileOptions): Task<number>;

    // DNS (dns.ts) and pipes (pipes.ts).
    /**
     * asyncio's `loop.getaddrinfo()`: `[family, type, proto, canonname, sockaddr][]`
     * for `host`/`port` (see {@link getaddrinfo} in @aioloop/net for the details and errors).
     */
    getaddrinfo(host: string | null | undefined, port: PortLike, options?: GetaddrinfoOptions): Future<AddrInfo[]>;
    /** asyncio's `loop.getnameinfo()`: `[host, service]` for a `[host, port]` / `[host, port, flowinfo, scopeid]` sockaddr. */
    getnameinfo(sockaddr: readonly unknown[], flags?: number): Future<[host: string, service: string]>;
    /**
     * asyncio's `loop.connect_read_pipe()`: `[transport, protocol]` once `connectionMade`
     * ran; `pipe` is a file descriptor (pipe, FIFO, socket, character device) or a Node Readable.
     */
    connectReadPipe<P extends AnyProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[ReadPipeTransport, P]>;
    /**
     * asyncio's `loop.connect_write_pipe()`: `[transport, protocol]` once `connectionMade`
     * ran; `pipe` is a file descriptor (pipe, FIFO, socket, character device) or a Node Writable.
     */
    connectWritePipe<P extends AnyProtocolLike>(protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[WritePipeTransport, P]>;

    // Native sockets and fd watchers (need @aioloop/native-sockets): native/.
    /** asyncio's `loop.sock_recv()`: up to `nbytes` bytes from a non-blocking {@link Socket} (empty at end of stream). */
    sockRecv(sock: Socket, nbytes: number): Future<Buffer>;
    /** asyncio's `loop.sock_recv_into()`: reads into `buf`, resolves to the count. */
    sockRecvInto(sock: Socket, buf: ArrayBufferView | ArrayBuffer): Future<number>;
    /** asyncio's `loop.sock_recvfrom()`: `[data, address]`. */
    sockRecvfrom(sock: Socket, bufsize: number): Future<[Buffer, SocketAddress | null]>;
    /** asyncio's `loop.sock_recvfrom_into()`: `[count, address]`. */
    sockRecvfromInto(sock: Socket, buf: ArrayBufferView | ArrayBuffer, nbytes?: number): Future<[number, SocketAddress | null]>;
    /** asyncio's `loop.sock_sendall()`: resolves once all of `data` is sent. */
    sockSendall(sock: Socket, data: ArrayBufferView | ArrayBuffer): Future<void>;
    /** asyncio's `loop.sock_sendto()`: the count sent. */
    sockSendto(sock: Socket, data: ArrayBufferView | ArrayBuffer, address: SocketAddress): Future<number>;
    /** asyncio's `loop.sock_connect()` (host names resolved with `getaddrinfo` first). */
    sockConnect(sock: Socket, address: SocketAddress): Future<void>;
    /** asyncio's `loop.sock_accept()`: `[conn, address]`, `conn` non-blocking. */
    sockAccept(sock: Socket): Future<[Socket, SocketAddress]>;
    /** asyncio's `loop.sock_sendfile()`: sendfile(2), or with `fallback` (default) read-and-send; resolves to the byte count. */
    sockSendfile(sock: Socket, file: SendfileFile, offset?: number, count?: number | null, options?: { fallback?: boolean }): Future<number>;
    /** asyncio's `loop.add_reader()`: `callback(...args)` runs whenever `fd` is readable; replaces a reader already on `fd`. */
    addReader<A extends unknown[]>(fd: FileLike, callback: (...args: A) => void, ...args: A): void;
    /** asyncio's `loop.remove_reader()`: whether a reader was removed. */
    removeReader(fd: FileLike): boolean;
    /** asyncio's `loop.add_writer()`. */
    addWriter<A extends unknown[]>(fd: FileLike, callback: (...args: A) => void, ...args: A): void;
    /** asyncio's `loop.remove_writer()`: whether a writer was removed. */
    removeWriter(fd: FileLike): boolean;

    // Datagram endpoints: datagram/.
    /**
     * asyncio's `loop.create_datagram_endpoint()`: a UDP (IPv4/IPv6) or AF_UNIX
     * datagram endpoint bound to `localAddr` and/or connected to `remoteAddr`
     * (or over `sock`), resolving to `[transport, protocol]` after
     * `connectionMade` (see {@link createDatagramEndpoint} in @aioloop/net).
     */
    createDatagramEndpoint<P extends DatagramProtocolLike>(
      protocolFactory: ProtocolFactory<P>,
      options?: CreateDatagramEndpointOptions,
    ): Task<[DatagramTransportBase, P]>;
  }
}

export {};
