export * from './transports.js';
export * from './protocols.js';
export { AbstractTransport } from './base-transport.js';
export { FlowControlTransport, DEFAULT_HIGH_WATER } from './flow-control.js';
export * from './stream/index.js';
