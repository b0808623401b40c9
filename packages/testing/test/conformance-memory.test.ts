import type { Transport } from '@aioloop/core';
import { describeDatagramConformance, describeTransportConformance, type StreamPairContext, type StreamPairHandle } from '../src/conformance.js';
import { RecordingProtocol, SimulatedNetwork, TestLoop, createDatagramPair, createStreamPair } from '../src/index.js';

// The in-memory transports against the contract, on a real-time loop and on a TestLoop.
describeTransportConformance('in-memory stream pair', async ({ loop, clientProtocol, serverProtocol }) => {
  const [[client], [server]] = await createStreamPair(loop, clientProtocol, serverProtocol);
  return { client, server };
});

describeTransportConformance(
  'in-memory stream pair with a 4 KiB receive buffer on TestLoop',
  async ({ loop, clientProtocol, serverProtocol }) => {
    const [[client], [server]] = await createStreamPair(loop, clientProtocol, serverProtocol, { bufferSize: 4096, maxReadSize: 1000 });
    return { client, server };
  },
  { newLoop: () => new TestLoop() },
);

describeDatagramConformance('in-memory datagram pair', async ({ loop, protocolA, protocolB }) => {
  const [[a], [b]] = await createDatagramPair(loop, protocolA, protocolB, { connected: false });
  return { a, b, addressOfA: a.localAddr, addressOfB: b.localAddr };
});

// The simulated network's transports: TCP-like streams and UDP-like datagrams
// between two virtual hosts, with latency, jitter and (for streams) 5% loss.
function simulatedPair(loss: number) {
  return async ({ loop, clientProtocol, serverProtocol }: StreamPairContext): Promise<StreamPairHandle> => {
    const network = new SimulatedNetwork(loop, { seed: 77, latency: 0.005, jitter: 0.002, loss });
    const serverHost = network.host('192.0.2.1');
    const clientHost = network.host('192.0.2.2');
    let accepted!: RecordingProtocol;
    const server = await serverHost.createServer(() => (accepted = serverProtocol()), null, 443);
    const [client] = await clientHost.createConnection(clientProtocol, '192.0.2.1', 443);
    await accepted.waitFor('connectionMade', 5);
    return { client, server: accepted.transport as Transport, cleanup: () => server.close() };
  };
}

describeTransportConformance('simulated network stream', simulatedPair(0), { newLoop: () => new TestLoop() });
describeTransportConformance('simulated network stream with 5% loss', simulatedPair(0.05), { newLoop: () => new TestLoop(), timeout: 120 });

describeDatagramConformance(
  'simulated network datagrams',
  async ({ loop, protocolA, protocolB }) => {
    const network = new SimulatedNetwork(loop, { seed: 78, latency: 0.005, jitter: 0.002 });
    const [a] = await network.host('192.0.2.1').createDatagramEndpoint(protocolA, { localAddr: ['192.0.2.1', 5000] });
    const [b] = await network.host('192.0.2.2').createDatagramEndpoint(protocolB, { localAddr: ['192.0.2.2', 6000] });
    return { a, b, addressOfA: ['192.0.2.1', 5000], addressOfB: ['192.0.2.2', 6000] };
  },
  { newLoop: () => new TestLoop() },
);
