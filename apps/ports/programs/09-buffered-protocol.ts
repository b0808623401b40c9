// Port of 09-buffered-protocol.py (asyncio.BufferedProtocol) to aioloop.
import { BufferedProtocol, Protocol, getRunningLoop, type Future, type Transport } from '@aioloop/core';
import '@aioloop/net';
import { run } from '@aioloop/policy';

const SIZE = 100_000;

function pattern(): Buffer {
  const bytes = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i++) bytes[i] = i % 251;
  return bytes;
}

class EchoServer extends Protocol {
  private transport!: Transport;

  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }

  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }

  override eofReceived(): void {
    console.log('server: eof received, closing');
    this.transport.close();
  }
}

class Collect extends BufferedProtocol {
  buffer = new Uint8Array(64);
  received: Buffer[] = [];
  sizehints = new Set<number>();
  maxUpdate = 0;

  constructor(private readonly done: Future<null>) {
    super();
  }

  override connectionMade(transport: Transport): void {
    console.log('client: connected');
    transport.write(pattern());
    transport.writeEof();
  }

  override getBuffer(sizehint: number): Uint8Array {
    this.sizehints.add(sizehint);
    return this.buffer;
  }

  override bufferUpdated(nbytes: number): void {
    this.maxUpdate = Math.max(this.maxUpdate, nbytes);
    this.received.push(Buffer.from(this.buffer.subarray(0, nbytes)));
  }

  override eofReceived(): boolean {
    console.log('client: eof received after', Buffer.concat(this.received).length, 'bytes');
    return false;
  }

  override connectionLost(exc: Error | null): void {
    console.log('client: connection lost' + (exc ? `: ${exc.message}` : ''));
    this.done.setResult(null);
  }
}

async function main(): Promise<void> {
  const loop = getRunningLoop();
  const server = await loop.createServer(() => new EchoServer(), '127.0.0.1', 0);
  const [host, port] = server.sockets[0]!.getsockname();
  const done = loop.createFuture<null>();
  const [transport, protocol] = await loop.createConnection(() => new Collect(done), host, port);
  await done;
  console.log('echo intact:', Buffer.concat(protocol.received).equals(pattern()) ? 'yes' : 'no');
  console.log(`size hints: [${[...protocol.sizehints].sort((a, b) => a - b).join(', ')}]`);
  console.log('reads fit the 64-byte buffer:', protocol.maxUpdate > 0 && protocol.maxUpdate <= 64 ? 'yes' : 'no');
  console.log('transport closing:', transport.isClosing() ? 'yes' : 'no');
  server.close();
  await server.waitClosed();
  console.log('server closed');
}

await run(main);
