export * from './transports.js';
export * from './protocols.js';
export * from './flow-control.js';
export * from './stream/index.js';
