export { ConnectionClosedError, LineClientProtocol, LineServerProtocol, LineSplitter } from './protocol.js';
export { pingSession, type SessionOptions, type SessionStats } from './session.js';
