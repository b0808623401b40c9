/**
 * @aioloop/net — asyncio's networking on Node.js: DNS (getaddrinfo /
 * getnameinfo), TCP and Unix stream connections and servers with asyncio
 * transports and protocols, and pipes. Importing it installs the loop methods
 * (`loop.createConnection`, `loop.createServer`, ...).
 */
import './loop-methods.js';
import './types.js';
import './native/reset-probe.js';

export * from './dns.js';
export * from './connect.js';
export * from './pipes.js';
export type { ProtocolFactory } from './protocol-factory.js';
export {
  Server,
  ServerSocket,
  DEFAULT_BACKLOG,
  createServer,
  reusePortSupported,
  type CreateServerOptions,
  type ServerSockLike,
} from './server.js';
export { createConnection, type CreateConnectionOptions } from './tcp.js';
export { createUnixConnection, createUnixServer, type CreateUnixConnectionOptions, type CreateUnixServerOptions } from './unix.js';
export { connectAcceptedSocket, wrapSocket, type ConnectAcceptedSocketOptions, type WrapSocketOptions } from './socket-transport.js';
export type { ClientTlsOptions } from './tls/context.js';
export {
  Socket,
  socket,
  socketpair,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_BROADCAST,
  SO_KEEPALIVE,
  SO_SNDBUF,
  SO_RCVBUF,
  SO_ERROR,
  SO_TYPE,
  SO_LINGER,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  TCP_NODELAY,
  SHUT_RD,
  SHUT_WR,
  SHUT_RDWR,
  SOCK_NONBLOCK,
  SOCK_CLOEXEC,
  MSG_PEEK,
  MSG_TRUNC,
  MSG_DONTWAIT,
  MSG_WAITALL,
  SOMAXCONN,
  type FileLike,
  type SocketAddress,
} from './native/socket.js';
export { BlockingIOError } from './native/errors.js';
export { NativeSocketsUnavailableError, nativeSocketsAvailable } from './native/binding.js';
export type { SendfileFile } from './native/sock-methods.js';
export {
  createDatagramEndpoint,
  type CreateDatagramEndpointOptions,
  type DatagramEndpointAddress,
} from './datagram/endpoint.js';
export { DatagramTransportBase } from './datagram/transport-base.js';
export { DgramTransport } from './datagram/dgram-transport.js';
export { NativeDatagramTransport } from './datagram/native-transport.js';
export { TlsTransport, NotImplementedError, type TlsTransportOptions } from '@aioloop/core';
export { SslError, SslCertVerificationError, SslHandshakeTimeoutError } from './tls/errors.js';
export { SSL_HANDSHAKE_TIMEOUT, SSL_SHUTDOWN_TIMEOUT, type SslContextOptions, type SslOption } from './tls/context.js';
export { startTls, type StartTlsOptions } from './tls/start-tls.js';
export { sendfile, SENDFILE_FALLBACK_READBUFFER_SIZE, type SendfileOptions, type SendfileSource } from './sendfile.js';
export {
  openConnection,
  openUnixConnection,
  startServer,
  startUnixServer,
  type OpenConnectionOptions,
  type OpenUnixConnectionOptions,
  type StartServerOptions,
  type StartUnixServerOptions,
  type StreamLimitOption,
} from './streams.js';
export { StreamReader, StreamWriter, StreamReaderProtocol, type ClientConnectedCallback } from '@aioloop/core';
