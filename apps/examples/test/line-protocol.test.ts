/**
 * One line protocol (src/line-protocol), the same protocol and client code,
 * tested three ways: on real TCP (127.0.0.1), in memory, and on a simulated
 * network with 5% loss and a partition, where minutes of network time pass in
 * well under a second of real time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventLoop, TimeoutError, sleep } from '@aioloop/core';
import '@aioloop/net';
import { RecordingProtocol, SimulatedNetwork, TestLoop, assertReceived, createStreamPair } from '@aioloop/testing';
import { printSeedOnFailure } from '@aioloop/testing/conformance';
import { LineClientProtocol, LineServerProtocol, LineSplitter, pingSession } from '../src/line-protocol/index.js';

const loops: EventLoop[] = [];
afterEach(() => {
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

describe('line protocol on real TCP (127.0.0.1)', () => {
  it('answers PING, ECHO and unknown commands, and says BYE to QUIT', async () => {
    const loop = new EventLoop();
    loops.push(loop);
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new LineServerProtocol(), '127.0.0.1', 0);
      const port = (server.sockets[0]?.getsockname() as [string, number])[1];
      const [, client] = await loop.createConnection(() => new LineClientProtocol(loop), '127.0.0.1', port);
      expect(await client.request('PING 1')).toBe('PONG 1');
      expect(await client.request('ECHO hello, world')).toBe('hello, world');
      expect(await client.request('DANCE')).toBe('ERR unknown command');
      expect(await client.request('QUIT')).toBe('BYE');
      await client.waitClosed(); // the server closes the connection after BYE
      server.close();
      await server.waitClosed();
    });
  });

  it('runs the ping session client unchanged', async () => {
    const loop = new EventLoop();
    loops.push(loop);
    const stats = await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new LineServerProtocol(), '127.0.0.1', 0);
      const port = (server.sockets[0]?.getsockname() as [string, number])[1];
      const result = await pingSession(loop, '127.0.0.1', port, { count: 5, interval: 0.01 });
      server.close();
      await server.waitClosed();
      return result;
    });
    expect(stats).toEqual({ ok: 5, timeouts: 0, lost: 0, connects: 1, connectFailures: 0, wrong: 0 });
  });
});

describe('line protocol in memory', () => {
  it('answers requests split across arbitrary chunks', async () => {
    const loop = new TestLoop();
    loops.push(loop);
    await loop.runUntilComplete(async () => {
      const [[clientTransport, client], [, server]] = await createStreamPair(loop, () => new LineClientProtocol(loop), () => new LineServerProtocol(), {
        maxReadSize: 3,
      });
      expect(await client.request('PING 42')).toBe('PONG 42');
      expect(await client.request('ECHO split me into tiny reads')).toBe('split me into tiny reads');
      expect(await client.request('QUIT')).toBe('BYE');
      // The server closes after BYE: the client sees EOF and closes too.
      await sleep(1);
      expect(client.isClosed).toBe(true);
      expect(clientTransport.isClosing()).toBe(true);
      expect(server).toBeInstanceOf(LineServerProtocol);
    });
  });

  it('lets a recording peer check exactly what the server writes, and closes after EOF', async () => {
    const loop = new TestLoop();
    loops.push(loop);
    await loop.runUntilComplete(async () => {
      const [[transport, recorder]] = await createStreamPair(loop, () => new RecordingProtocol(), () => new LineServerProtocol());
      transport.write(Buffer.from('PING a\r\nECHO b\nNOPE\n'));
      transport.writeEof();
      await recorder.waitFor('connectionLost', 5);
      assertReceived(recorder, 'PONG a\nb\nERR unknown command\n');
    });
  });

  it('times out a request on the virtual clock when the server never answers', async () => {
    const loop = new TestLoop();
    loops.push(loop);
    const error = await loop
      .runUntilComplete(async () => {
        const [[, client]] = await createStreamPair(loop, () => new LineClientProtocol(loop), () => new RecordingProtocol());
        await client.request('PING 1', 30);
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(loop.time()).toBe(30);
  });

  it('splits lines whatever the chunking', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('a\nb'))).toEqual(['a']);
    expect(splitter.push(Buffer.from('c\r\n\n'))).toEqual(['bc', '']);
  });
});

describe('line protocol on a simulated network with 5% loss and a partition', () => {
  it('survives minutes of lossy network time and a 40 s partition, in virtual time', async () => {
    const loop = new TestLoop();
    loops.push(loop);
    const network = new SimulatedNetwork(loop, { seed: 20261123, latency: 0.04, jitter: 0.02, loss: 0.05 });
    printSeedOnFailure(network);
    const serverHost = network.host('192.0.2.10');
    const clientHost = network.host('192.0.2.20');
    const realStart = performance.now();
    const stats = await loop.runUntilComplete(async () => {
      const server = await serverHost.loop.createServer(() => new LineServerProtocol(), null, 7000);
      // The partition: from t=60 s to t=100 s the hosts cannot reach each other.
      loop.callAt(60, () => network.partition([serverHost], [clientHost]));
      loop.callAt(100, () => network.heal());
      const result = await pingSession(clientHost.loop, '192.0.2.10', 7000, { count: 180, interval: 1, timeout: 5 });
      server.close();
      return result;
    });
    const realMs = performance.now() - realStart;
    const virtualSeconds = loop.time();
    console.log(`simulated ${virtualSeconds.toFixed(1)} s of network time in ${realMs.toFixed(0)} ms of real time (seed ${network.seed}); ${JSON.stringify(stats)}`);

    expect(virtualSeconds).toBeGreaterThan(180);
    expect(stats.wrong).toBe(0);
    // The partition cost requests (timeouts, then failed reconnects) ...
    expect(stats.timeouts + stats.lost).toBeGreaterThan(0);
    expect(stats.connectFailures + stats.connects).toBeGreaterThan(1);
    // ... and the client recovered after heal(): most pings were answered.
    expect(stats.ok).toBeGreaterThan(120);
    expect(network.dropped).toBeGreaterThan(0);
  });

  it('replays exactly with the same seed', async () => {
    async function run(seed: number): Promise<string> {
      const loop = new TestLoop();
      loops.push(loop);
      const network = new SimulatedNetwork(loop, { seed, latency: 0.04, jitter: 0.03, loss: 0.05 });
      const a = network.host('192.0.2.10');
      const b = network.host('192.0.2.20');
      const stats = await loop.runUntilComplete(async () => {
        const server = await a.loop.createServer(() => new LineServerProtocol(), null, 7000);
        loop.callAt(10, () => network.partition([a], [b]));
        loop.callAt(25, () => network.heal());
        const result = await pingSession(b.loop, '192.0.2.10', 7000, { count: 40, interval: 1, timeout: 2 });
        server.close();
        return result;
      });
      return `${JSON.stringify(stats)} at ${loop.time()} dropped ${network.dropped}`;
    }
    const first = await run(7);
    expect(await run(7)).toBe(first);
  });
});
