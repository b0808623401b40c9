/**
 * Installs @aioloop/net's methods on every EventLoop (importing the package
 * is enough), one block per family of methods; the TypeScript declarations
 * are in types.ts.
 */
import { EventLoop, installLoopMethods, wrapFuture, type AnyProtocolLike, type Future, type ReadPipeTransport, type StreamTransport, type Task, type WritePipeTransport } from '@aioloop/core';
import { checkClosed } from '@aioloop/core/internal';
import type { PortLike, SockAddr } from './dns.js';
import type { ProtocolFactory } from './protocol-factory.js';
import { getaddrinfo, getnameinfo, type AddrInfo, type GetaddrinfoOptions } from './dns.js';
import { connectReadPipe, connectWritePipe, type PipeLike } from './pipes.js';
import { createServer, type CreateServerOptions, type Server } from './server.js';
import { createConnection, type CreateConnectionOptions } from './tcp.js';
import { createUnixConnection, createUnixServer, type CreateUnixConnectionOptions, type CreateUnixServerOptions } from './unix.js';
import { connectAcceptedSocket, type ConnectAcceptedSocketOptions } from './socket-transport.js';
import type net from 'node:net';
import { addReader, addWriter, removeReader, removeWriter } from './native/fd-watchers.js';
import {
  sockAccept,
  sockConnect,
  sockRecv,
  sockRecvfrom,
  sockRecvfromInto,
  sockRecvInto,
  sockSendall,
  sockSendfile,
  sockSendto,
  type SendfileFile,
} from './native/sock-methods.js';
import type { FileLike, Socket, SocketAddress } from './native/socket.js';
import type { DatagramProtocolLike } from '@aioloop/core';
import { createDatagramEndpoint, type CreateDatagramEndpointOptions } from './datagram/endpoint.js';
import type { DatagramTransportBase } from './datagram/transport-base.js';
import type { TlsTransport } from '@aioloop/core';
import type { SslOption } from './tls/context.js';
import { startTls, type StartTlsOptions } from './tls/start-tls.js';
import { sendfile, type SendfileOptions, type SendfileSource } from './sendfile.js';

// Stream connections and servers: tcp.ts, unix.ts, server.ts, socket-transport.ts (connectAcceptedSocket).
installLoopMethods(
  '@aioloop/net',
  {
    createConnection<P extends AnyProtocolLike>(
      this: EventLoop,
      protocolFactory: ProtocolFactory<P>,
      host: string | null | undefined,
      port: PortLike,
      options?: CreateConnectionOptions,
    ): Task<[StreamTransport | TlsTransport, P]> {
      return createConnection(this, protocolFactory, host, port, options);
    },
    createServer(
      this: EventLoop,
      protocolFactory: ProtocolFactory<AnyProtocolLike>,
      host: string | readonly string[] | null | undefined,
      port: PortLike,
      options?: CreateServerOptions,
    ): Task<Server<SockAddr | string>> {
      return createServer(this, protocolFactory, host, port, options);
    },
    createUnixConnection<P extends AnyProtocolLike>(
      this: EventLoop,
      protocolFactory: ProtocolFactory<P>,
      path: string | null | undefined,
      options?: CreateUnixConnectionOptions,
    ): Task<[StreamTransport | TlsTransport, P]> {
      return createUnixConnection(this, protocolFactory, path, options);
    },
    createUnixServer(
      this: EventLoop,
      protocolFactory: ProtocolFactory<AnyProtocolLike>,
      path: string | null | undefined,
      options?: CreateUnixServerOptions,
    ): Task<Server<string>> {
      return createUnixServer(this, protocolFactory, path, options);
    },
    connectAcceptedSocket<P extends AnyProtocolLike>(
      this: EventLoop,
      protocolFactory: ProtocolFactory<P>,
      sock: net.Socket | Socket,
      options?: ConnectAcceptedSocketOptions,
    ): Task<[StreamTransport | TlsTransport, P]> {
      return connectAcceptedSocket(this, protocolFactory, sock, options);
    },
    startTls(
      this: EventLoop,
      transport: StreamTransport,
      protocol: AnyProtocolLike,
      sslcontext: SslOption,
      options?: StartTlsOptions,
    ): Task<TlsTransport> {
      return startTls(this, transport, protocol, sslcontext, options);
    },
    sendfile(
      this: EventLoop,
      transport: StreamTransport | TlsTransport,
      file: SendfileSource,
      offset?: number,
      count?: number | null,
      options?: SendfileOptions,
    ): Task<number> {
      return sendfile(this, transport, file, offset, count, options);
    },
  },
  EventLoop.prototype,
);

// DNS (dns.ts) and pipes (pipes.ts).
installLoopMethods(
  '@aioloop/net',
  {
    getaddrinfo(this: EventLoop, host: string | null | undefined, port: PortLike, options?: GetaddrinfoOptions): Future<AddrInfo[]> {
      checkClosed(this);
      return wrapFuture(getaddrinfo(host, port, options), this);
    },
    getnameinfo(this: EventLoop, sockaddr: readonly unknown[], flags?: number): Future<[host: string, service: string]> {
      checkClosed(this);
      return wrapFuture(getnameinfo(sockaddr, flags), this);
    },
    connectReadPipe<P extends AnyProtocolLike>(this: EventLoop, protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[ReadPipeTransport, P]> {
      return connectReadPipe(this, protocolFactory, pipe);
    },
    connectWritePipe<P extends AnyProtocolLike>(this: EventLoop, protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[WritePipeTransport, P]> {
      return connectWritePipe(this, protocolFactory, pipe);
    },
  },
  EventLoop.prototype,
);

// Native sockets and fd watchers: native/.
installLoopMethods(
  '@aioloop/net',
  {
    sockRecv(this: EventLoop, sock: Socket, nbytes: number): Future<Buffer> {
      return sockRecv(this, sock, nbytes);
    },
    sockRecvInto(this: EventLoop, sock: Socket, buf: ArrayBufferView | ArrayBuffer): Future<number> {
      return sockRecvInto(this, sock, buf);
    },
    sockRecvfrom(this: EventLoop, sock: Socket, bufsize: number): Future<[Buffer, SocketAddress | null]> {
      return sockRecvfrom(this, sock, bufsize);
    },
    sockRecvfromInto(this: EventLoop, sock: Socket, buf: ArrayBufferView | ArrayBuffer, nbytes?: number): Future<[number, SocketAddress | null]> {
      return sockRecvfromInto(this, sock, buf, nbytes);
    },
    sockSendall(this: EventLoop, sock: Socket, data: ArrayBufferView | ArrayBuffer): Future<void> {
      return sockSendall(this, sock, data);
    },
    sockSendto(this: EventLoop, sock: Socket, data: ArrayBufferView | ArrayBuffer, address: SocketAddress): Future<number> {
      return sockSendto(this, sock, data, address);
    },
    sockConnect(this: EventLoop, sock: Socket, address: SocketAddress): Future<void> {
      return sockConnect(this, sock, address);
    },
    sockAccept(this: EventLoop, sock: Socket): Future<[Socket, SocketAddress]> {
      return sockAccept(this, sock);
    },
    sockSendfile(this: EventLoop, sock: Socket, file: SendfileFile, offset?: number, count?: number | null, options?: { fallback?: boolean }): Future<number> {
      return sockSendfile(this, sock, file, offset, count, options);
    },
    addReader(this: EventLoop, fd: FileLike, callback: (...args: never[]) => void, ...args: unknown[]): void {
      addReader(this, fd, callback, args);
    },
    removeReader(this: EventLoop, fd: FileLike): boolean {
      return removeReader(this, fd);
    },
    addWriter(this: EventLoop, fd: FileLike, callback: (...args: never[]) => void, ...args: unknown[]): void {
      addWriter(this, fd, callback, args);
    },
    removeWriter(this: EventLoop, fd: FileLike): boolean {
      return removeWriter(this, fd);
    },
  },
  EventLoop.prototype,
);

// Datagram endpoints: datagram/.
installLoopMethods(
  '@aioloop/net',
  {
    createDatagramEndpoint<P extends DatagramProtocolLike>(
      this: EventLoop,
      protocolFactory: ProtocolFactory<P>,
      options?: CreateDatagramEndpointOptions,
    ): Task<[DatagramTransportBase, P]> {
      return createDatagramEndpoint(this, protocolFactory, options);
    },
  },
  EventLoop.prototype,
);
