/**
 * Installs @aioloop/net's methods on every EventLoop (importing the package
 * is enough). Each block below belongs to one module; the TypeScript
 * declarations are in types.ts.
 */
import { EventLoop, installLoopMethods, type BaseProtocolLike, type StreamTransport, type Task } from '@aioloop/core';
import { checkClosed } from '@aioloop/core/internal';
import type { PortLike } from './dns.js';
import type { ProtocolFactory } from './pipes.js';
// net-B imports
import { wrapFuture, type Future, type ReadPipeTransport, type WritePipeTransport } from '@aioloop/core';
import { getaddrinfo, getnameinfo, type AddrInfo, type GetaddrinfoOptions } from './dns.js';
import { connectReadPipe, connectWritePipe, type PipeLike } from './pipes.js';
import { createServer, type CreateServerOptions, type Server } from './server.js';
import {
  connectAcceptedSocket,
  createConnection,
  createUnixConnection,
  createUnixServer,
  type ConnectAcceptedSocketOptions,
  type CreateConnectionOptions,
  type CreateUnixConnectionOptions,
  type CreateUnixServerOptions,
} from './unix.js';
import type net from 'node:net';

// ---- net-A: stream connections and servers ----
installLoopMethods(
  '@aioloop/net',
  {
    createConnection<P extends BaseProtocolLike<never>>(
      this: EventLoop,
      protocolFactory: ProtocolFactory<P>,
      host: string | null | undefined,
      port: PortLike,
      options?: CreateConnectionOptions,
    ): Task<[StreamTransport, P]> {
      return createConnection(this, protocolFactory, host, port, options);
    },
    createServer(
      this: EventLoop,
      protocolFactory: ProtocolFactory<BaseProtocolLike<never>>,
      host: string | readonly string[] | null | undefined,
      port: PortLike,
      options?: CreateServerOptions,
    ): Task<Server> {
      return createServer(this, protocolFactory, host, port, options);
    },
    createUnixConnection<P extends BaseProtocolLike<never>>(
      this: EventLoop,
      protocolFactory: ProtocolFactory<P>,
      path: string | null | undefined,
      options?: CreateUnixConnectionOptions,
    ): Task<[StreamTransport, P]> {
      return createUnixConnection(this, protocolFactory, path, options);
    },
    createUnixServer(
      this: EventLoop,
      protocolFactory: ProtocolFactory<BaseProtocolLike<never>>,
      path: string | null | undefined,
      options?: CreateUnixServerOptions,
    ): Task<Server> {
      return createUnixServer(this, protocolFactory, path, options);
    },
    connectAcceptedSocket<P extends BaseProtocolLike<never>>(
      this: EventLoop,
      protocolFactory: ProtocolFactory<P>,
      sock: net.Socket,
      options?: ConnectAcceptedSocketOptions,
    ): Task<[StreamTransport, P]> {
      return connectAcceptedSocket(this, protocolFactory, sock, options);
    },
  },
  EventLoop.prototype,
);
// ---- end net-A ----

// ---- net-B: dns + pipes ----
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
    connectReadPipe<P extends BaseProtocolLike<never>>(this: EventLoop, protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[ReadPipeTransport, P]> {
      return connectReadPipe(this, protocolFactory, pipe);
    },
    connectWritePipe<P extends BaseProtocolLike<never>>(this: EventLoop, protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[WritePipeTransport, P]> {
      return connectWritePipe(this, protocolFactory, pipe);
    },
  },
  EventLoop.prototype,
);
// ---- end net-B ----
