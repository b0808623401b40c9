/**
 * @aioloop/testing — a virtual-time event loop, test doubles, in-memory
 * transports and a simulated network for testing asyncio-style code.
 * The vitest conformance kit lives in `@aioloop/testing/conformance`.
 */
export { TestLoop, type TestLoopOptions } from './test-loop.js';
export { DeadlockError, type WaitingTask } from './deadlock.js';
export {
  RecordingProtocol,
  RecordingBufferedProtocol,
  RecordingDatagramProtocol,
  formatEvent,
  previewBytes,
  type ProtocolEvent,
  type ProtocolEventType,
  type RecordingBufferedProtocolOptions,
  type RecordingProtocolOptions,
  type WaitCondition,
} from './recording.js';
export { MockTransport, type MockTransportCall, type MockTransportMethod, type MockTransportOptions } from './mock-transport.js';
export { ProtocolAssertionError, assertCalls, assertConnectionLostOnce, assertEvents, assertReceived, assertWritten } from './assertions.js';
export {
  MemoryStreamTransport,
  createStreamPair,
  immediateLink,
  systemError,
  type MemoryStreamOptions,
  type StreamLink,
  type StreamPair,
  type StreamPairOptions,
  type StreamSegment,
} from './memory-stream.js';
export {
  MemoryDatagramTransport,
  createDatagramPair,
  type DatagramFabric,
  type DatagramPair,
  type DatagramPairOptions,
  type HostPort,
  type MemoryDatagramOptions,
} from './memory-datagram.js';
export { SeededRandom, randomSeed } from './prng.js';
export {
  SimHost,
  SimServer,
  SimulatedNetwork,
  type LinkConditions,
  type SimConnectionOptions,
  type SimDatagramOptions,
  type SimHostLoop,
  type SimServerOptions,
  type SimSocketInfo,
  type SimulatedNetworkOptions,
} from './simnet.js';
export { TestLoopPolicy, installTestLoopPolicy, type InstalledTestLoopPolicy } from './policy.js';
