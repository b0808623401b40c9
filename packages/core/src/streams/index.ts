export { DEFAULT_LIMIT, StreamReader, type Separator, type StreamReaderOptions } from './reader.js';
export { CLOSE_WAITER, DRAIN_HELPER, FlowControl, StreamWriter, connectionResetError, type DrainSource } from './writer.js';
export { StreamReaderProtocol, type ClientConnectedCallback } from './protocol.js';
