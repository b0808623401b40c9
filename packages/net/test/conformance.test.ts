/**
 * @aioloop/net's transports against the asyncio transport contract of
 * @aioloop/testing's conformance kit (real sockets on 127.0.0.1, ::1 and a Unix
 * socket in a temporary directory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Transport } from '@aioloop/core';
import '../src/index.js';
import { testPki } from './tls-support.js';
import { describeTransportConformance, type StreamPairContext, type StreamPairHandle } from '@aioloop/testing/conformance';

/** The kit's server protocol factory, recording the accepted connection's transport. */
function acceptingSide(ctx: StreamPairContext) {
  let serverTransport: Transport | null = null;
  const accepted = ctx.loop.createFuture<void>();
  const factory = () => {
    const protocol = ctx.serverProtocol();
    const made = protocol.connectionMade.bind(protocol);
    protocol.connectionMade = (transport: Transport) => {
      made(transport);
      serverTransport = transport;
      if (!accepted.done()) accepted.setResult(undefined);
    };
    return protocol;
  };
  /** Waits for the connection to be accepted; its server-side transport. */
  const transport = async (): Promise<Transport> => {
    await accepted;
    return serverTransport as unknown as Transport;
  };
  return { factory, transport };
}

async function tcpPair(ctx: StreamPairContext, host: string, tls: boolean = false): Promise<StreamPairHandle> {
  const { loop } = ctx;
  const side = acceptingSide(ctx);
  const server = await loop.createServer(side.factory, host, 0, tls ? { ssl: { cert: testPki().cert, key: testPki().key } } : {});
  const port = (server.sockets[0]?.getsockname() as [string, number])[1];
  const [client] = await loop.createConnection(ctx.clientProtocol, host, port, tls ? { ssl: { ca: testPki().ca }, serverHostname: 'localhost' } : {});
  return {
    client,
    server: await side.transport(),
    cleanup: async () => {
      server.close();
      await server.waitClosed();
    },
  };
}

describeTransportConformance('TCP over 127.0.0.1', (ctx) => tcpPair(ctx, '127.0.0.1'));

describeTransportConformance('TCP over ::1', (ctx) => tcpPair(ctx, '::1'));

// TLS has no half-close (asyncio: can_write_eof() is False).
describeTransportConformance('TLS over 127.0.0.1', (ctx) => tcpPair(ctx, '127.0.0.1', true), { halfClose: false });

describeTransportConformance('Unix socket', async (ctx) => {
  const { loop } = ctx;
  const dir = mkdtempSync(join(tmpdir(), 'aioloop-conformance-'));
  const path = join(dir, 'sock');
  const side = acceptingSide(ctx);
  const server = await loop.createUnixServer(side.factory, path);
  const [client] = await loop.createUnixConnection(ctx.clientProtocol, path);
  return {
    client,
    server: await side.transport(),
    cleanup: async () => {
      server.close();
      await server.waitClosed();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
