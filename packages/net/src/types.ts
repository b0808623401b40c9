/**
 * TypeScript declarations of the loop methods @aioloop/net installs (module
 * augmentation of @aioloop/core's EventLoop).
 */
import type net from 'node:net';
import type { BaseProtocolLike, StreamTransport, Task } from '@aioloop/core';
import type { PortLike } from './dns.js';
import type { ProtocolFactory } from './pipes.js';
// net-B imports
import type { Future, ReadPipeTransport, WritePipeTransport } from '@aioloop/core';
import type { AddrInfo, GetaddrinfoOptions } from './dns.js';
import type { PipeLike } from './pipes.js';
import type { CreateServerOptions, Server } from './server.js';
import type { ConnectAcceptedSocketOptions, CreateConnectionOptions, CreateUnixConnectionOptions, CreateUnixServerOptions } from './unix.js';

declare module '@aioloop/core' {
  interface EventLoop {
    // ---- net-A: stream connections and servers ----
    /**
     * asyncio's `loop.create_connection()`: connects to `host:port` (every
     * address, Happy Eyeballs with `happyEyeballsDelay`) and resolves to
     * `[transport, protocol]` after `connectionMade`.
     */
    createConnection<P extends BaseProtocolLike<never>>(
      protocolFactory: ProtocolFactory<P>,
      host: string | null | undefined,
      port: PortLike,
      options?: CreateConnectionOptions,
    ): Task<[StreamTransport, P]>;
    /** asyncio's `loop.create_server()`: binds every address of `host` (all interfaces for null/'') and resolves to the {@link Server}. */
    createServer(
      protocolFactory: ProtocolFactory<BaseProtocolLike<never>>,
      host: string | readonly string[] | null | undefined,
      port: PortLike,
      options?: CreateServerOptions,
    ): Task<Server>;
    /** asyncio's `loop.create_unix_connection()`. */
    createUnixConnection<P extends BaseProtocolLike<never>>(
      protocolFactory: ProtocolFactory<P>,
      path: string | null | undefined,
      options?: CreateUnixConnectionOptions,
    ): Task<[StreamTransport, P]>;
    /** asyncio's `loop.create_unix_server()` (stale socket files replaced, abstract names, cleanupSocket). */
    createUnixServer(
      protocolFactory: ProtocolFactory<BaseProtocolLike<never>>,
      path: string | null | undefined,
      options?: CreateUnixServerOptions,
    ): Task<Server>;
    /** asyncio's `loop.connect_accepted_socket()`. */
    connectAcceptedSocket<P extends BaseProtocolLike<never>>(
      protocolFactory: ProtocolFactory<P>,
      sock: net.Socket,
      options?: ConnectAcceptedSocketOptions,
    ): Task<[StreamTransport, P]>;
    // ---- end net-A ----

    // ---- net-B: dns + pipes ----
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
    connectReadPipe<P extends BaseProtocolLike<never>>(protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[ReadPipeTransport, P]>;
    /**
     * asyncio's `loop.connect_write_pipe()`: `[transport, protocol]` once `connectionMade`
     * ran; `pipe` is a file descriptor (pipe, FIFO, socket, character device) or a Node Writable.
     */
    connectWritePipe<P extends BaseProtocolLike<never>>(protocolFactory: ProtocolFactory<P>, pipe: PipeLike): Future<[WritePipeTransport, P]>;
    // ---- end net-B ----
  }
}

export {};
