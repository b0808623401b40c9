import { afterEach, describe, expect, it, vi } from 'vitest';
import { Protocol, sleep, type Transport } from '@aioloop/core';
import { RecordingDatagramProtocol, RecordingProtocol, SeededRandom, SimulatedNetwork, TestLoop } from '../src/index.js';
import { printSeedOnFailure } from '../src/conformance.js';

const loops: TestLoop[] = [];
function newLoop(): TestLoop {
  const loop = new TestLoop();
  loops.push(loop);
  return loop;
}
afterEach(() => {
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

/** Echoes every byte back. */
class Echo extends Protocol {
  private transport: Transport | null = null;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.transport?.write(data);
  }
}

describe('SeededRandom', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('SimulatedNetwork streams', () => {
  it('connects hosts with the production createConnection/createServer calls and echoes after one latency each way', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 1, latency: 0.05 });
    printSeedOnFailure(network);
    const server = network.host('192.0.2.1');
    const client = network.host('192.0.2.2');
    const result = await loop.runUntilComplete(async () => {
      const srv = await server.loop.createServer(() => new Echo(), null, 7000);
      expect(srv.sockets[0]?.getsockname()).toEqual(['192.0.2.1', 7000]);
      const [transport, protocol] = await client.loop.createConnection(() => new RecordingProtocol(), '192.0.2.1', 7000);
      const connectedAt = loop.time();
      expect(transport.getExtraInfo('peername')).toEqual(['192.0.2.1', 7000]);
      expect((transport.getExtraInfo('sockname') as [string, number])[0]).toBe('192.0.2.2');
      transport.write(Buffer.from('hello'));
      await protocol.waitFor((p) => p.receivedBytes >= 5, 10);
      const echoedAt = loop.time();
      transport.close();
      await protocol.waitFor('connectionLost', 10);
      srv.close();
      await srv.waitClosed();
      return { connectedAt, rtt: echoedAt - connectedAt, data: protocol.received().toString() };
    });
    expect(result.data).toBe('hello');
    expect(result.connectedAt).toBeCloseTo(0.1, 9);
    expect(result.rtt).toBeCloseTo(0.1, 9);
  });

  it('refuses a connection to a port nobody listens on with ECONNREFUSED, and an unknown host with ENOTFOUND', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 2 });
    network.host('192.0.2.1');
    const client = network.host('192.0.2.2');
    await loop.runUntilComplete(async () => {
      await expect(client.createConnection(() => new RecordingProtocol(), '192.0.2.1', 9)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(client.createConnection(() => new RecordingProtocol(), 'nowhere', 9)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    });
  });

  it('times out a connect across a partition with ETIMEDOUT after the SYN retries', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 3 });
    const a = network.host('host-a');
    const b = network.host('host-b');
    await loop.runUntilComplete(async () => {
      await b.createServer(() => new Echo(), 'host-b', 80);
      network.partition([a], [b]);
      expect(network.reachable('host-a', 'host-b')).toBe(false);
      const started = loop.time();
      await expect(a.createConnection(() => new RecordingProtocol(), 'host-b', 80)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(loop.time() - started).toBe(1 + 2 + 4 + 8 + 16);
    });
  });

  it('a host that is down: connect rejects with EHOSTUNREACH after 3 s, and connects again once it is up', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 31 });
    const a = network.host('host-a');
    const b = network.host('host-b');
    await loop.runUntilComplete(async () => {
      const server = await b.createServer(() => new Echo(), 'host-b', 80);
      network.hostDown(b);
      expect(network.reachable(a, b)).toBe(false);
      const started = loop.time();
      const refused = await a.createConnection(() => new RecordingProtocol(), 'host-b', 80).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'EHOSTUNREACH', syscall: 'connect' });
      expect(String((refused as Error).message)).toContain('host-b:80');
      expect(loop.time() - started).toBe(3);
      network.hostUp('host-b');
      const [transport, client] = await a.createConnection(() => new RecordingProtocol(), 'host-b', 80);
      transport.write(Buffer.from('back'));
      await client.waitFor((p) => p.receivedBytes >= 4, 5);
      transport.close();
      server.close();
      await server.waitClosed();
    });
  });

  it('an open connection to a host that goes down stalls, then ends with EHOSTUNREACH when retransmissions run out', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 32, maxRetransmits: 4 });
    const a = network.host('host-a');
    const b = network.host('host-b');
    await loop.runUntilComplete(async () => {
      let serverSide!: RecordingProtocol;
      await b.createServer(() => (serverSide = new RecordingProtocol()), null, 80);
      const [transport, clientSide] = await a.createConnection(() => new RecordingProtocol(), 'host-b', 80);
      await serverSide.waitFor('connectionMade', 1);
      network.hostDown('host-b');
      transport.write(Buffer.from('into the void'));
      await clientSide.waitFor('connectionLost', 60);
      expect(clientSide.lostError).toMatchObject({ code: 'EHOSTUNREACH' });
      expect(serverSide.receivedBytes).toBe(0);
      // The receiver is not told (half-open), as in TCP: its end stays open until closed.
      expect(serverSide.lost).toBe(false);
      network.hostUp('host-b');
      serverSide.transport?.abort();
    });
  });

  it('stalls a stream during a partition and delivers everything in order after heal()', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 4, latency: 0.01 });
    const a = network.host('host-a');
    const b = network.host('host-b');
    await loop.runUntilComplete(async () => {
      let serverSide!: RecordingProtocol;
      await b.createServer(() => (serverSide = new RecordingProtocol()), null, 80);
      const [transport] = await a.createConnection(() => new RecordingProtocol(), 'host-b', 80);
      network.partition(['host-a'], ['host-b']);
      transport.write(Buffer.from('during-partition'));
      await sleep(5);
      expect(serverSide.receivedBytes).toBe(0);
      network.heal();
      await serverSide.waitFor((p) => p.receivedBytes >= 16, 60);
      expect(serverSide.received().toString()).toBe('during-partition');
      transport.close();
    });
  });

  it('retransmits lost segments: with 30% loss every byte still arrives, in order, later', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 5, latency: 0.02, loss: 0.3 });
    const a = network.host('host-a');
    const b = network.host('host-b');
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff));
    await loop.runUntilComplete(async () => {
      let serverSide!: RecordingProtocol;
      await b.createServer(() => (serverSide = new RecordingProtocol()), null, 80);
      const [transport] = await a.createConnection(() => new RecordingProtocol(), 'host-b', 80);
      transport.write(data);
      await serverSide.waitFor((p) => p.receivedBytes >= data.length, 600);
      expect(serverSide.received().equals(data)).toBe(true);
      transport.close();
    });
    expect(network.dropped).toBeGreaterThan(0);
  });

  it('reset() kills a connection: both ends get connectionLost(ECONNRESET)', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 6 });
    const a = network.host('host-a');
    const b = network.host('host-b');
    await loop.runUntilComplete(async () => {
      let serverSide!: RecordingProtocol;
      await b.createServer(() => (serverSide = new RecordingProtocol()), null, 80);
      const [transport, clientSide] = await a.createConnection(() => new RecordingProtocol(), 'host-b', 80);
      await serverSide.waitFor('connectionMade', 1);
      network.reset(transport);
      await clientSide.waitFor('connectionLost', 1);
      await serverSide.waitFor('connectionLost', 1);
      expect((clientSide.lostError as NodeJS.ErrnoException).code).toBe('ECONNRESET');
      expect((serverSide.lostError as NodeJS.ErrnoException).code).toBe('ECONNRESET');
      expect(network.openConnections).toBe(0);
    });
  });

  it('carries bytes at the configured bandwidth', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 7, latency: 0, bandwidth: 100_000 });
    const a = network.host('host-a');
    const b = network.host('host-b');
    const elapsed = await loop.runUntilComplete(async () => {
      let serverSide!: RecordingProtocol;
      await b.createServer(() => (serverSide = new RecordingProtocol()), null, 80);
      const [transport] = await a.createConnection(() => new RecordingProtocol(), 'host-b', 80);
      const start = loop.time();
      transport.write(Buffer.alloc(500_000));
      await serverSide.waitFor((p) => p.receivedBytes >= 500_000, 60);
      transport.close();
      return loop.time() - start;
    });
    expect(elapsed).toBeGreaterThanOrEqual(5);
    expect(elapsed).toBeLessThan(6);
  });

  it('rejects a server on another host name and a port in use', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 8 });
    const a = network.host('host-a');
    await loop.runUntilComplete(async () => {
      expect(() => a.createServer(() => new Echo(), 'host-b', 80)).toThrow(/host "host-b" is not this simulated host \(host-a\)/);
      expect(() => a.createConnection(() => new Echo(), 'host-b', 70000)).toThrow(/port must be a whole number 1-65535, got 70000/);
      await a.createServer(() => new Echo(), null, 80);
      await expect(a.createServer(() => new Echo(), null, 80)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    });
  });
});

describe('SimServer', () => {
  it('serveForever ends with CancelledError on close; waitClosed waits for the accepted connections', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 11 });
    const a = network.host('host-a');
    const b = network.host('host-b');
    const log: string[] = [];
    await loop.runUntilComplete(async () => {
      const server = await b.createServer(() => new RecordingProtocol(), null, 0, { startServing: false });
      const port = server.sockets[0]?.getsockname()[1] as number;
      expect(port).toBeGreaterThanOrEqual(49152);
      expect(server.isServing()).toBe(false);
      await expect(a.createConnection(() => new RecordingProtocol(), 'host-b', port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const serving = loop.createTask(async () => {
        try {
          await server.serveForever();
        } catch (error) {
          log.push(`serveForever: ${(error as Error).name}`);
        }
      });
      await sleep(0);
      expect(server.isServing()).toBe(true);
      const [transport, client] = await a.createConnection(() => new RecordingProtocol(), 'host-b', port);
      server.close();
      expect(server.sockets).toEqual([]);
      const closed = loop.createTask(async () => {
        await server.waitClosed();
        log.push(`waitClosed@${loop.time()}`);
      });
      await sleep(3);
      expect(log).toEqual(['serveForever: CancelledError']);
      server.closeClients();
      await client.waitFor('connectionLost', 5);
      await closed;
      await serving;
      expect(log.length).toBe(2);
      expect(transport.isClosing()).toBe(true);
    });
  });
});

describe('SimulatedNetwork datagrams', () => {
  async function lossRun(seed: number): Promise<{ received: number[]; dropped: number }> {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed, latency: 0.01, jitter: 0.01, loss: 0.2, reorder: 0.2 });
    const a = network.host('192.0.2.10');
    const b = network.host('192.0.2.20');
    return loop.runUntilComplete(async () => {
      const [rx, receiver] = await b.loop.createDatagramEndpoint(() => new RecordingDatagramProtocol(), { localAddr: ['192.0.2.20', 5353] });
      const [tx] = await a.loop.createDatagramEndpoint(() => new RecordingDatagramProtocol(), { remoteAddr: ['192.0.2.20', 5353] });
      for (let i = 0; i < 200; i++) {
        tx.sendto(Buffer.from(String(i)));
        await sleep(0.001);
      }
      await sleep(5);
      tx.close();
      rx.close();
      return { received: receiver.datagrams.map((d) => Number(d.data.toString())), dropped: network.dropped };
    });
  }

  it('loses and reorders datagrams, the same way for the same seed', async () => {
    const first = await lossRun(99);
    const again = await lossRun(99);
    const other = await lossRun(100);
    expect(again).toEqual(first);
    expect(other.received).not.toEqual(first.received);
    expect(first.received.length).toBeGreaterThan(120);
    expect(first.received.length).toBeLessThan(190);
    expect(first.dropped).toBe(200 - first.received.length);
    const sorted = [...first.received].sort((x, y) => x - y);
    expect(first.received).not.toEqual(sorted);
  });

  it('drops datagrams across a partition and reports the sender address', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 9 });
    const a = network.host('192.0.2.10');
    const b = network.host('192.0.2.20');
    await loop.runUntilComplete(async () => {
      const [, receiver] = await b.createDatagramEndpoint(() => new RecordingDatagramProtocol(), { localAddr: ['192.0.2.20', 53] });
      const [tx] = await a.createDatagramEndpoint(() => new RecordingDatagramProtocol(), { localAddr: ['192.0.2.10', 1000] });
      network.partition(['192.0.2.10'], ['192.0.2.20']);
      tx.sendto(Buffer.from('lost'), ['192.0.2.20', 53]);
      await sleep(1);
      network.heal();
      tx.sendto(Buffer.from('found'), ['192.0.2.20', 53]);
      await receiver.waitFor('datagramReceived', 1);
      expect(receiver.datagrams.map((d) => d.data.toString())).toEqual(['found']);
      expect(receiver.datagrams[0]?.addr).toEqual(['192.0.2.10', 1000]);
    });
  });

  it('a connected endpoint sending to a host that is down gets errorReceived(EHOSTUNREACH); the datagram is dropped', async () => {
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 33 });
    const a = network.host('192.0.2.10');
    const b = network.host('192.0.2.20');
    await loop.runUntilComplete(async () => {
      const [rx, receiver] = await b.createDatagramEndpoint(() => new RecordingDatagramProtocol(), { localAddr: ['192.0.2.20', 53] });
      const [tx, sender] = await a.createDatagramEndpoint(() => new RecordingDatagramProtocol(), { remoteAddr: ['192.0.2.20', 53] });
      network.hostDown(b);
      tx.sendto(Buffer.from('lost'));
      await sender.waitFor('errorReceived', 1);
      expect(sender.first('errorReceived')?.exc).toMatchObject({ code: 'EHOSTUNREACH' });
      network.hostUp(b);
      tx.sendto(Buffer.from('found'));
      await receiver.waitFor('datagramReceived', 1);
      expect(receiver.datagrams.map((d) => d.data.toString())).toEqual(['found']);
      tx.close();
      rx.close();
    });
  });

  it('rejects bad options naming them', () => {
    const loop = newLoop();
    expect(() => new SimulatedNetwork(loop, { loss: 2 })).toThrow(/loss must be a probability between 0 and 1, got 2/);
    expect(() => new SimulatedNetwork(loop, { latency: -1 })).toThrow(/latency must be a finite number >= 0/);
    expect(() => new SimulatedNetwork(loop, { bandwidth: 0 })).toThrow(/bandwidth must be bytes per second > 0/);
    expect(() => new SimulatedNetwork(loop).host('')).toThrow(/non-empty string/);
  });
});

describe('printSeedOnFailure', () => {
  const printed: string[] = [];
  it.fails('(a deliberately failing test whose network seed must be printed)', () => {
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
      printed.push(String(line));
    });
    const loop = newLoop();
    const network = new SimulatedNetwork(loop, { seed: 4242 });
    printSeedOnFailure(network);
    throw new Error('deliberate failure');
  });

  it('printed the seed of the failed test with how to replay it', () => {
    vi.restoreAllMocks();
    expect(printed.join('\n')).toMatch(/simulated network seed 4242: replay with \{ seed: 4242 \}/);
  });
});
