export {
  StreamTransportBase,
  ReadableStreamTransport,
  isSystemError,
  LOG_THRESHOLD_FOR_CONNLOST_WRITES,
  TRANSPORT_ATTACHED,
  TRANSPORT_DETACHED,
  CONNECTION_MADE_FAILED,
  type StreamTransportOptions,
  type TransportServer,
} from './base.js';
export { DuplexStreamTransport } from './duplex-transport.js';
export { StreamTransport, BufferedReadBinding, ONREAD_SCRATCH_SIZE, type StreamTransportConstructorOptions } from './stream-transport.js';
export { ReadPipeTransport, WritePipeTransport } from './pipe-transports.js';
export { TlsTransport, NotImplementedError, type TlsTransportOptions } from './tls-transport.js';
export { nodeReadPath, fileno, type NodeReadPath } from './node-private.js';
