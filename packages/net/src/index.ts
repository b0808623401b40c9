/**
 * @aioloop/net — asyncio's networking on Node.js: DNS (getaddrinfo /
 * getnameinfo), TCP and Unix stream connections and servers with asyncio
 * transports and protocols, and pipes. Importing it installs the loop methods
 * (`loop.createConnection`, `loop.createServer`, ...).
 */
import './loop-methods.js';
import './types.js';

export * from './dns.js';
export * from './connect.js';
export * from './pipes.js';
export {
  Server,
  ServerSocket,
  DEFAULT_BACKLOG,
  createServer,
  reusePortSupported,
  type CreateServerOptions,
  type ServerSockLike,
} from './server.js';
export {
  connectAcceptedSocket,
  createConnection,
  createUnixConnection,
  createUnixServer,
  type ConnectAcceptedSocketOptions,
  type CreateConnectionOptions,
  type CreateUnixConnectionOptions,
  type CreateUnixServerOptions,
} from './unix.js';
export { wrapSocket, type WrapSocketOptions } from './socket-transport.js';
