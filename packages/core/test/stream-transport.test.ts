import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TRANSPORT_ATTACHED,
  TRANSPORT_DETACHED,
  BufferedProtocol,
  BufferedReadBinding,
  EventLoop,
  Protocol,
  ReadPipeTransport,
  RuntimeError,
  StreamTransport,
  WritePipeTransport,
  getRunningLoop,
  setLogger,
  type ExceptionContext,
  type Future,
  type Transport,
  type WriteTransport,
} from '../src/index.js';
import { connectedPair } from './support.js';

const loops: EventLoop[] = [];
const cleanups: (() => void)[] = [];
function newLoop(): EventLoop {
  const loop = new EventLoop({ debug: false });
  loops.push(loop);
  return loop;
}
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

/** A connected TCP pair on `host`: [ours (the client), peer (the accepted side)]. */
async function tcpPair(host = '127.0.0.1', clientOptions: Partial<net.TcpNetConnectOpts> = {}): Promise<[net.Socket, net.Socket]> {
  const { client, accepted } = await connectedPair(host, { client: clientOptions });
  return [client, accepted];
}

/** A connection accepted by a `pauseOnConnect` server (not reading yet, as @aioloop/net's servers get them): [accepted, client]. */
async function acceptedPair(host = '127.0.0.1'): Promise<[net.Socket, net.Socket]> {
  const { client, accepted } = await connectedPair(host, { pauseOnConnect: true });
  return [accepted, client];
}

/** Everything `peer` receives until EOF. */
function readAll(peer: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    peer.on('data', (d: Buffer) => chunks.push(d));
    peer.once('end', () => resolve(Buffer.concat(chunks)));
    peer.once('error', reject);
  });
}

/** A protocol that records every callback and exposes futures for the milestones. */
class Recorder extends Protocol {
  events: string[] = [];
  chunks: Buffer[] = [];
  transport!: Transport;
  readonly made: Future<void>;
  readonly lost: Future<Error | null>;
  readonly eof: Future<void>;
  keepOpen = false;
  lostCount = 0;
  private want = 0;
  private wantFuture: Future<void> | null = null;
  runningLoopSeen: EventLoop[] = [];

  constructor(readonly loop: EventLoop) {
    super();
    this.made = loop.createFuture();
    this.lost = loop.createFuture();
    this.eof = loop.createFuture();
  }
  override connectionMade(transport: Transport): void {
    this.runningLoopSeen.push(getRunningLoop());
    this.events.push('made');
    this.transport = transport;
    this.made.setResult();
  }
  override dataReceived(data: Buffer): void {
    this.runningLoopSeen.push(getRunningLoop());
    if (this.events.at(-1) !== 'data') this.events.push('data');
    this.chunks.push(data);
    if (this.wantFuture !== null && this.received() >= this.want) {
      this.wantFuture.setResult();
      this.wantFuture = null;
    }
  }
  override eofReceived(): boolean {
    this.events.push('eof');
    this.eof.setResult();
    return this.keepOpen;
  }
  override connectionLost(exc: Error | null): void {
    this.events.push('lost');
    this.lostCount++;
    if (!this.lost.done()) this.lost.setResult(exc);
  }
  override pauseWriting(): void {
    this.events.push('pause');
  }
  override resumeWriting(): void {
    this.events.push('resume');
  }
  received(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  /** Resolves when at least `n` bytes arrived. */
  until(n: number): Future<void> {
    const f = this.loop.createFuture<void>();
    if (this.received() >= n) f.setResult();
    else {
      this.want = n;
      this.wantFuture = f;
    }
    return f;
  }
}

function pattern(size: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/**
 * Writes `chunk` until the transport itself holds bytes (the peer must not be
 * reading). How much the kernel takes first depends on the host's socket buffers,
 * so tests never guess a size. Returns the chunks written.
 */
function writeUntilBuffered(t: StreamTransport, chunk: Buffer, limit = 256 * 1024 * 1024): Buffer[] {
  const written: Buffer[] = [];
  while (t.getWriteBufferSize() === 0) {
    if (written.length * chunk.length >= limit) throw new Error(`the write buffer stayed empty after ${limit} bytes`);
    t.write(chunk);
    written.push(chunk);
  }
  return written;
}

/** A loop-side wait: resolves after `seconds`. */
function pause(loop: EventLoop, seconds: number): Future<void> {
  const f = loop.createFuture<void>();
  loop.callLater(seconds, () => f.setResult());
  return f;
}

/** Polls `predicate` from the loop every 5 ms, up to `seconds`. */
async function waitFor(loop: EventLoop, predicate: () => boolean, seconds = 5): Promise<void> {
  const end = loop.time() + seconds;
  while (!predicate()) {
    if (loop.time() > end) throw new Error('condition not reached in time');
    await pause(loop, 0.005);
  }
}

describe('StreamTransport over a TCP socket', () => {
  it('calls connectionMade in a loop callback before any data, then resolves the waiter', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    peer.write('early bytes'); // already in flight before the transport exists
    await new Promise((r) => setTimeout(r, 20));
    const proto = new Recorder(loop);
    const waiter = loop.createFuture<void>();
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto, { waiter });
      expect(proto.events).toEqual([]); // not synchronously
      await waiter;
      expect(proto.events[0]).toBe('made');
      await proto.until(11);
      t.close();
      await proto.lost;
    });
    expect(proto.events).toEqual(['made', 'data', 'lost']);
    expect(proto.bytes().toString()).toBe('early bytes');
    expect(proto.runningLoopSeen.every((l) => l === loop)).toBe(true);
  });

  it('sends writes and writelines in order and the peer receives every byte', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const got = readAll(peer);
    const proto = new Recorder(loop);
    const expected: Buffer[] = [];
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      for (let i = 0; i < 50; i++) {
        const b = pattern(1000 + i, i);
        expected.push(b);
        t.write(b);
      }
      const lines = [pattern(10, 1), new Uint8Array([1, 2, 3]), new DataView(new ArrayBuffer(4)), new ArrayBuffer(2)];
      t.writelines(lines);
      expected.push(pattern(10, 1), Buffer.from([1, 2, 3]), Buffer.alloc(4), Buffer.alloc(2));
      t.writeEof();
      let done = false;
      void got.then(() => (done = true));
      await waitFor(loop, () => done);
      t.close();
      expect(await proto.lost).toBe(null);
    });
    expect((await got).equals(Buffer.concat(expected))).toBe(true);
  });

  it('hands the written bytes to the stream without copying (asyncio 3.12+ keeps a reference too)', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const got = readAll(peer);
    const proto = new Recorder(loop);
    const handed: unknown[] = [];
    const realWrite = ours.write.bind(ours) as (chunk: unknown, cb?: () => void) => boolean;
    (ours as unknown as { write: unknown }).write = (chunk: unknown, cb?: () => void) => {
      handed.push(chunk);
      return realWrite(chunk, cb);
    };
    const data = Buffer.from('zero copy');
    const view = new Uint8Array(new ArrayBuffer(16), 4, 8).fill(65);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      t.write(data);
      t.write(view);
      t.writeEof();
    });
    expect(handed[0]).toBe(data);
    expect((handed[1] as Uint8Array).buffer).toBe(view.buffer);
    expect((await got).toString()).toBe('zero copyAAAAAAAA');
  });

  it('rejects non-bytes with a TypeError, ignores empty writes, and forbids write() after writeEof()', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const got = readAll(peer);
    const proto = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      expect(() => t.write('text' as never)).toThrow(TypeError);
      expect(() => t.write('text' as never)).toThrow(/write\(\): data must be bytes/);
      expect(() => t.write(null as never)).toThrow(TypeError);
      expect(() => t.writelines([Buffer.from('a'), 5 as never])).toThrow(TypeError);
      t.write(Buffer.alloc(0));
      t.write(Buffer.from('ok'));
      expect(t.canWriteEof()).toBe(true);
      t.writeEof();
      expect(() => t.write(Buffer.from('late'))).toThrow(RuntimeError);
      expect(() => t.write(Buffer.from('late'))).toThrow('Cannot call write() after writeEof()');
      t.write(Buffer.alloc(0) as never); // still validated first? empty after eof also throws in asyncio
    }).catch((e: unknown) => {
      expect(e).toBeInstanceOf(RuntimeError);
    });
    // nothing invalid was sent: the type-error writelines sent none of its items
    expect((await got).toString()).toBe('ok');
  });

  it('keeps the transport open for writing when eofReceived() returns true', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const got = readAll(peer);
    const proto = new Recorder(loop);
    proto.keepOpen = true;
    peer.end('question');
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.eof;
      expect(t.isClosing()).toBe(false);
      t.write(Buffer.from('answer to ' + proto.bytes().toString()));
      t.close();
      expect(await proto.lost).toBe(null);
    });
    expect((await got).toString()).toBe('answer to question');
    expect(proto.events).toEqual(['made', 'data', 'eof', 'lost']);
  });

  it('closes when eofReceived() returns a falsy value, calling connectionLost(null) once', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const proto = new Recorder(loop);
    peer.end('bye');
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      expect(await proto.lost).toBe(null);
      expect(t.isClosing()).toBe(true);
      await pause(loop, 0.05);
    });
    expect(proto.lostCount).toBe(1);
    expect(proto.events).toEqual(['made', 'data', 'eof', 'lost']);
  });

  it('close() flushes buffered data before connectionLost(null)', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    peer.pause();
    const proto = new Recorder(loop);
    const chunk = pattern(1024 * 1024);
    const got = readAll(peer);
    let data = Buffer.alloc(0);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      const written = writeUntilBuffered(t, chunk);
      t.write(chunk); // one more behind bytes the transport already holds
      data = Buffer.concat([...written, chunk]);
      t.close();
      expect(t.isClosing()).toBe(true);
      t.close(); // twice is harmless
      await pause(loop, 0.02);
      expect(proto.lost.done()).toBe(false); // still flushing
      peer.resume();
      expect(await proto.lost).toBe(null);
    });
    expect((await got).equals(data)).toBe(true);
    expect(proto.lostCount).toBe(1);
  });

  it('abort() drops the buffer and calls connectionLost(null) exactly once', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    peer.pause();
    const proto = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      writeUntilBuffered(t, pattern(256 * 1024));
      t.abort();
      t.abort();
      t.close();
      expect(t.getWriteBufferSize()).toBe(0);
      expect(await proto.lost).toBe(null);
      await pause(loop, 0.03);
    });
    expect(proto.lostCount).toBe(1);
    expect(ours.destroyed).toBe(true);
  });

  it('getWriteBufferSize() counts only the bytes the kernel has not taken, as asyncio (a partly sent write counts its rest)', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    peer.pause();
    const proto = new Recorder(loop);
    const data = Buffer.alloc(64 * 1024 * 1024, 0x5a);
    let received = 0;
    peer.on('data', (d: Buffer) => (received += d.length));
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      t.write(data);
      // The first send on a fresh connection always takes some bytes, whatever the
      // kernel's buffer sizes: those are no longer counted (Node's writableLength
      // still counts the whole chunk).
      const unsent = t.getWriteBufferSize();
      expect(unsent).toBeLessThan(data.length);
      if (unsent > 0) expect(ours.writableLength).toBe(data.length);
      peer.resume();
      await waitFor(loop, () => t.getWriteBufferSize() === 0, 30);
      t.close();
      expect(await proto.lost).toBe(null);
    });
    await new Promise<void>((resolve) => (peer.readableEnded ? resolve() : peer.once('end', () => resolve())));
    expect(received).toBe(data.length);
  });

  it('drops writes after the connection is lost and logs a warning after 5 of them', async () => {
    const loop = newLoop();
    const [ours] = await tcpPair();
    const warnings: string[] = [];
    setLogger({ debug() {}, warn: (m) => warnings.push(m), error() {} });
    cleanups.push(() => setLogger(null));
    const proto = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      t.abort();
      await proto.lost;
      for (let i = 0; i < 4; i++) t.write(Buffer.from('x'));
      expect(warnings).toEqual([]);
      t.write(Buffer.from('x'));
      t.write(Buffer.from('x'));
      expect(warnings).toEqual(['socket.send() raised exception.', 'socket.send() raised exception.']);
      expect(t.getWriteBufferSize()).toBe(0);
    });
  });

  it('fires pauseWriting once on crossing the high mark and resumeWriting once on reaching the low mark', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    peer.pause();
    const proto = new Recorder(loop);
    let maxSeen = 0;
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      t.setWriteBufferLimits(256 * 1024, 64 * 1024);
      expect(t.getWriteBufferLimits()).toEqual([64 * 1024, 256 * 1024]);
      let sent = 0;
      // Fill well past the kernel buffers and the high mark.
      while (!proto.events.includes('pause') && sent < 64 * 1024 * 1024) {
        t.write(pattern(16 * 1024));
        sent += 16 * 1024;
        maxSeen = Math.max(maxSeen, t.getWriteBufferSize());
      }
      expect(proto.events.filter((e) => e === 'pause')).toHaveLength(1);
      expect(t.getWriteBufferSize()).toBeGreaterThan(256 * 1024);
      expect(maxSeen).toBeLessThanOrEqual(256 * 1024 + 16 * 1024);
      for (let i = 0; i < 10; i++) t.write(pattern(1024)); // still accepted; no second pause
      expect(proto.events.filter((e) => e === 'pause')).toHaveLength(1);
      let drained = 0;
      peer.on('data', (d: Buffer) => (drained += d.length));
      peer.resume();
      await waitFor(loop, () => proto.events.includes('resume'));
      expect(t.getWriteBufferSize()).toBeLessThanOrEqual(64 * 1024);
      await waitFor(loop, () => drained >= sent + 10 * 1024);
      expect(proto.events.filter((e) => e === 'pause')).toHaveLength(1);
      expect(proto.events.filter((e) => e === 'resume')).toHaveLength(1);
      t.close();
      await proto.lost;
    });
  });

  it('delivers no data while paused and everything, in order, after resumeReading()', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const proto = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      expect(t.isReading()).toBe(true);
      t.pauseReading();
      t.pauseReading();
      expect(t.isReading()).toBe(false);
      peer.write(pattern(200_000));
      await pause(loop, 0.1);
      expect(proto.received()).toBe(0);
      t.resumeReading();
      await proto.until(200_000);
      expect(proto.bytes().equals(pattern(200_000))).toBe(true);
      t.close();
      expect(t.isReading()).toBe(false);
      await proto.lost;
    });
  });

  it('holds data that arrives while the loop is stopped and delivers it in order when it runs again', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const proto = new Recorder(loop);
    let t!: StreamTransport;
    await loop.runUntilComplete(async () => {
      t = new StreamTransport(loop, ours, proto);
      await proto.made;
      peer.write('one,');
      await proto.until(4);
    });
    peer.write('two,');
    await new Promise((r) => setTimeout(r, 30));
    peer.write('three');
    await new Promise((r) => setTimeout(r, 30));
    expect(proto.received()).toBe(4);
    await loop.runUntilComplete(async () => {
      await proto.until(13);
      t.close();
      await proto.lost;
    });
    expect(proto.bytes().toString()).toBe('one,two,three');
  });

  it('setProtocol(): later data goes to the new protocol', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const first = new Recorder(loop);
    const second = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, first);
      await first.made;
      peer.write('AAA');
      await first.until(3);
      t.setProtocol(second);
      expect(t.getProtocol()).toBe(second);
      expect(() => t.setProtocol(null as never)).toThrow(TypeError);
      peer.write('BBB');
      await second.until(3);
      t.close();
      await second.lost;
    });
    expect(first.bytes().toString()).toBe('AAA');
    expect(second.bytes().toString()).toBe('BBB');
    expect(first.lostCount).toBe(0);
  });

  it('reports an exception thrown by dataReceived and aborts the transport with connectionLost(exc)', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    const boom = new Error('boom');
    class Thrower extends Recorder {
      override dataReceived(data: Buffer): void {
        super.dataReceived(data);
        throw boom;
      }
    }
    const proto = new Thrower(loop);
    let t!: StreamTransport;
    const peerClosed = new Promise<void>((r) => peer.once('end', () => r()));
    peer.on('error', () => {});
    peer.on('data', () => {});
    await loop.runUntilComplete(async () => {
      t = new StreamTransport(loop, ours, proto);
      await proto.made;
      peer.write('x');
      expect(await proto.lost).toBe(boom);
    });
    expect(contexts).toHaveLength(1);
    expect(contexts[0]).toMatchObject({ exception: boom, transport: t, protocol: proto });
    expect(contexts[0]!.message).toMatch(/dataReceived/);
    expect(t.isClosing()).toBe(true);
    await peerClosed;
    expect(proto.lostCount).toBe(1);
  });

  it('reports connectionLost(err) keeping Node code ECONNRESET when the peer resets', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const proto = new Recorder(loop);
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    await loop.runUntilComplete(async () => {
      new StreamTransport(loop, ours, proto);
      await proto.made;
      peer.resetAndDestroy();
      const exc = await proto.lost;
      expect(exc).toBeInstanceOf(Error);
      expect((exc as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    });
    expect(contexts).toEqual([]); // OS errors are not "unexpected": no exception handler call
    expect(proto.lostCount).toBe(1);
  });

  it('gives peername/sockname as [host, port] for IPv4 and [host, port, 0, 0] for IPv6, plus the socket and extra', async () => {
    const loop = newLoop();
    for (const host of ['127.0.0.1', '::1']) {
      const [ours] = await tcpPair(host);
      const proto = new Recorder(loop);
      await loop.runUntilComplete(async () => {
        const t = new StreamTransport(loop, ours, proto, { extra: { custom: 42 } });
        await proto.made;
        const peer = t.getExtraInfo('peername') as unknown[];
        const sock = t.getExtraInfo('sockname') as unknown[];
        expect(peer[0]).toBe(host);
        expect(sock[0]).toBe(host);
        expect(sock[1]).toBe(ours.localPort);
        expect(peer[1]).toBe(ours.remotePort);
        expect(peer).toHaveLength(host === '::1' ? 4 : 2);
        if (host === '::1') expect(peer.slice(2)).toEqual([0, 0]);
        expect(t.getExtraInfo('socket')).toBe(ours);
        expect(t.getExtraInfo('custom')).toBe(42);
        expect(t.getExtraInfo('nope')).toBeUndefined();
        expect(t.getExtraInfo('nope', 'dflt')).toBe('dflt');
        t.abort();
        await proto.lost;
      });
    }
  });

  it('still reports peername/sockname after the peer reset the connection, though nobody asked before', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const expected = { peer: ['127.0.0.1', peer.localPort], sock: ['127.0.0.1', peer.remotePort] };
    const proto = new Recorder(loop);
    let seenInLost: unknown[] = [];
    proto.connectionLost = function (this: Recorder, exc: Error | null): void {
      seenInLost = [this.transport.getExtraInfo('peername'), this.transport.getExtraInfo('sockname')];
      Recorder.prototype.connectionLost.call(this, exc);
    };
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto);
      await proto.made;
      peer.resetAndDestroy();
      expect(await proto.lost).toBeInstanceOf(Error);
      expect(ours.remoteAddress).toBeUndefined(); // Node itself no longer knows
      expect(t.getExtraInfo('peername')).toEqual(expected.peer);
      expect(t.getExtraInfo('sockname')).toEqual(expected.sock);
    });
    expect(seenInLost).toEqual([expected.peer, expected.sock]);
  });

  it('gives extra entries precedence over computed peername/sockname (Unix paths come this way)', async () => {
    const loop = newLoop();
    const [ours] = await tcpPair();
    const proto = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto, { extra: { peername: '/tmp/peer.sock', sockname: undefined } });
      await proto.made;
      expect(t.getExtraInfo('peername')).toBe('/tmp/peer.sock');
      expect(t.getExtraInfo('sockname', 'dflt')).toBeUndefined(); // present, even though undefined
      t.abort();
      await proto.lost;
    });
  });

  it('tells the server about the transport: attach at creation, detach after connectionLost', async () => {
    const loop = newLoop();
    const [ours] = await tcpPair();
    const proto = new Recorder(loop);
    const log: string[] = [];
    const server = {
      [TRANSPORT_ATTACHED]: () => log.push('attach'),
      [TRANSPORT_DETACHED]: () => log.push(`detach after ${proto.events.at(-1)}`),
    };
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto, { server });
      expect(log).toEqual(['attach']);
      await proto.made;
      t.close();
      await proto.lost;
      await pause(loop, 0);
    });
    expect(log).toEqual(['attach', 'detach after lost']);
  });

  it('rejects the waiter and closes when connectionMade throws', async () => {
    const loop = newLoop();
    const [ours] = await tcpPair();
    const err = new Error('bad start');
    class BadStart extends Recorder {
      override connectionMade(): void {
        throw err;
      }
    }
    const proto = new BadStart(loop);
    const waiter = loop.createFuture<void>();
    await loop.runUntilComplete(async () => {
      new StreamTransport(loop, ours, proto, { waiter });
      await expect(waiter).rejects.toBe(err);
      expect(await proto.lost).toBe(err);
    });
  });
});

describe('StreamTransport with a BufferedProtocol', () => {
  class Buffered extends BufferedProtocol {
    readonly buf: Uint8Array;
    got: Buffer[] = [];
    sizeHints: number[] = [];
    lost: Future<Error | null>;
    total = 0;
    constructor(loop: EventLoop, size: number) {
      super();
      this.buf = new Uint8Array(size);
      this.lost = loop.createFuture();
    }
    getBuffer(sizeHint: number): Uint8Array {
      this.sizeHints.push(sizeHint);
      return this.buf;
    }
    bufferUpdated(n: number): void {
      expect(getRunningLoop()).toBeDefined();
      this.got.push(Buffer.from(this.buf.subarray(0, n)));
      this.total += n;
    }
    override eofReceived(): boolean {
      return false;
    }
    override connectionLost(exc: Error | null): void {
      this.lost.setResult(exc);
    }
  }

  /** Opts in to zero-copy reads: Node reads straight into `buf`. */
  class ZeroCopyBuffered extends Buffered {
    override readonly zeroCopyReads = true;
  }

  it('copies each chunk through getBuffer()/bufferUpdated() until consumed, with a small buffer', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const proto = new Buffered(loop, 1000);
    const data = pattern(300_000);
    peer.end(data);
    await loop.runUntilComplete(async () => {
      new StreamTransport(loop, ours, proto);
      expect(await proto.lost).toBe(null);
    });
    expect(Buffer.concat(proto.got).equals(data)).toBe(true);
    expect(Math.max(...proto.got.map((g) => g.length))).toBeLessThanOrEqual(1000);
  });

  for (const how of ['BufferedReadBinding (onread)', 'readIntoBuffers (accepted socket)'] as const) {
    it(`with a ${how} and no zeroCopyReads, asks getBuffer(-1) just before each read's bytes are copied in, as asyncio does`, async () => {
      const loop = newLoop();
      const binding = how === 'BufferedReadBinding (onread)' ? new BufferedReadBinding() : null;
      const [ours, peer] = binding !== null ? await tcpPair('127.0.0.1', { onread: binding.onread }) : await acceptedPair();
      const proto = new Buffered(loop, 4096);
      await loop.runUntilComplete(async () => {
        new StreamTransport(loop, ours, proto, binding !== null ? { onread: binding } : { readIntoBuffers: true });
        await pause(loop, 0.05);
        expect(proto.sizeHints).toEqual([]); // never asked ahead of the data
        peer.end(pattern(50_000, 7));
        expect(await proto.lost).toBe(null);
      });
      expect(Buffer.concat(proto.got).equals(pattern(50_000, 7))).toBe(true);
      // One getBuffer(-1) per bufferUpdated, none left over.
      expect(proto.sizeHints.length).toBe(proto.got.length);
      expect(new Set(proto.sizeHints)).toEqual(new Set([-1]));
    });
  }

  it('keeps the unread rest of a read intact when the protocol pauses part-way and another connection reads into the shared scratch meanwhile', async () => {
    const loop = newLoop();
    const bindingA = new BufferedReadBinding();
    const bindingB = new BufferedReadBinding();
    expect(bindingA._scratch).toBe(bindingB._scratch);
    const [oursA, peerA] = await tcpPair('127.0.0.1', { onread: bindingA.onread });
    const [oursB, peerB] = await tcpPair('127.0.0.1', { onread: bindingB.onread });
    class PausesOnce extends Buffered {
      t!: Transport;
      paused = false;
      override connectionMade(t: Transport): void {
        this.t = t;
      }
      override bufferUpdated(n: number): void {
        super.bufferUpdated(n);
        if (!this.paused) {
          this.paused = true;
          (this.t as StreamTransport).pauseReading();
        }
      }
    }
    const a = new PausesOnce(loop, 1000);
    const b = new Buffered(loop, 64 * 1024);
    await loop.runUntilComplete(async () => {
      const ta = new StreamTransport(loop, oursA, a, { onread: bindingA });
      new StreamTransport(loop, oursB, b, { onread: bindingB });
      await pause(loop, 0.02);
      peerA.write(pattern(30_000, 8));
      await waitFor(loop, () => a.paused);
      // B's reads land in the same scratch buffer while A holds the rest of its read.
      peerB.write(pattern(200_000, 9));
      await waitFor(loop, () => b.total >= 200_000);
      ta.resumeReading();
      await waitFor(loop, () => a.total >= 30_000);
    });
    expect(Buffer.concat(a.got).equals(pattern(30_000, 8))).toBe(true);
    expect(Buffer.concat(b.got).equals(pattern(200_000, 9))).toBe(true);
  });

  it.each([
    ['a client socket made with a BufferedReadBinding (onread)', 'binding'],
    ['an accepted socket with readIntoBuffers', 'accepted'],
  ] as const)('reads %s straight into a zeroCopyReads protocol buffer and switches protocols both ways', async (_name, kind) => {
    const loop = newLoop();
    const binding = kind === 'binding' ? new BufferedReadBinding() : null;
    const [ours, peer] = binding !== null ? await tcpPair('127.0.0.1', { onread: binding.onread }) : await acceptedPair();
    const buffered = new ZeroCopyBuffered(loop, 4096);
    const plain = new Recorder(loop);
    const second = new Buffered(loop, 100);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, buffered, binding !== null ? { onread: binding } : { readIntoBuffers: true });
      if (binding !== null) expect(() => new StreamTransport(loop, ours, plain, { onread: binding })).toThrow(/already bound/);
      peer.write(pattern(50_000, 1));
      await waitFor(loop, () => buffered.total >= 50_000);
      // Node asked for the protocol's own buffer (sizeHint -1) for direct reads, one ahead of the data.
      expect(buffered.sizeHints).toContain(-1);
      expect(buffered.sizeHints.length).toBe(buffered.got.length + 1);
      expect(Math.max(...buffered.got.map((g) => g.length))).toBeLessThanOrEqual(4096);
      t.setProtocol(plain);
      peer.write(pattern(20_000, 2));
      await plain.until(20_000);
      t.setProtocol(second);
      peer.end(pattern(5_000, 3));
      expect(await second.lost).toBe(null);
    });
    expect(Buffer.concat(buffered.got).equals(pattern(50_000, 1))).toBe(true);
    expect(plain.bytes().equals(pattern(20_000, 2))).toBe(true);
    expect(Buffer.concat(second.got).equals(pattern(5_000, 3))).toBe(true);
  });

  it('with readIntoBuffers, a plain Protocol gets its own copy of every read, and pauseReading holds the data', async () => {
    const loop = newLoop();
    const [ours, peer] = await acceptedPair();
    const proto = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const t = new StreamTransport(loop, ours, proto, { readIntoBuffers: true });
      await proto.made;
      peer.write(pattern(100_000, 4));
      await proto.until(100_000);
      // Each chunk is the protocol's own: later reads do not overwrite it.
      const first = proto.bytes();
      t.pauseReading();
      peer.write(pattern(30_000, 5));
      await pause(loop, 0.1);
      expect(proto.received()).toBe(100_000);
      t.resumeReading();
      await proto.until(130_000);
      expect(first.equals(pattern(100_000, 4))).toBe(true);
      expect(proto.bytes().subarray(100_000).equals(pattern(30_000, 5))).toBe(true);
      peer.end();
      await proto.eof;
      expect(await proto.lost).toBe(null);
    });
  });

  it('with readIntoBuffers on a socket that already reads, falls back to data events and loses nothing', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair(); // a client socket: Node started reading at connect
    const proto = new Buffered(loop, 1000);
    const data = pattern(200_000, 6);
    peer.end(data);
    await loop.runUntilComplete(async () => {
      new StreamTransport(loop, ours, proto, { readIntoBuffers: true });
      expect(await proto.lost).toBe(null);
    });
    expect(Buffer.concat(proto.got).equals(data)).toBe(true);
    expect(proto.sizeHints).not.toContain(-1); // copied through getBuffer(remaining)
  });

  it('default-sized BufferedReadBindings share one scratch buffer (no 64 KiB per connection); a custom size gets its own', () => {
    const a = new BufferedReadBinding();
    const b = new BufferedReadBinding();
    const c = new BufferedReadBinding(1024);
    expect(a._scratch).toBe(b._scratch);
    expect(c._scratch).not.toBe(a._scratch);
    expect(c._scratch.length).toBe(1024);
  });

  it('reports an empty buffer from getBuffer() and aborts', async () => {
    const loop = newLoop();
    const [ours, peer] = await tcpPair();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    const proto = new Buffered(loop, 0);
    peer.on('error', () => {});
    await loop.runUntilComplete(async () => {
      new StreamTransport(loop, ours, proto);
      peer.write('x');
      const exc = await proto.lost;
      expect(exc).toBeInstanceOf(RuntimeError);
    });
    expect(contexts[0]!.message).toMatch(/getBuffer/);
  });
});

describe('ReadPipeTransport and WritePipeTransport', () => {
  it('reads a child process stdout: data, then eofReceived, then connectionLost(null)', async () => {
    const loop = newLoop();
    const child = spawn('/bin/sh', ['-c', 'printf hello; printf " world"'], { stdio: ['ignore', 'pipe', 'ignore'] });
    cleanups.push(() => child.kill());
    const proto = new Recorder(loop);
    // Wrap the pipe in the same tick as spawn(): Node resumes (and so drains)
    // unobserved stdio streams when the child exits.
    const t = new ReadPipeTransport(loop, child.stdout, proto);
    await loop.runUntilComplete(async () => {
      expect(t.getExtraInfo('pipe')).toBe(child.stdout);
      expect(await proto.lost).toBe(null);
      expect(t.isClosing()).toBe(true);
    });
    expect(proto.events).toEqual(['made', 'data', 'eof', 'lost']);
    expect(proto.bytes().toString()).toBe('hello world');
  });

  it('pauses and resumes a read pipe, and close() ends it at once', async () => {
    const loop = newLoop();
    const pipe = new PassThrough();
    const proto = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const t = new ReadPipeTransport(loop, pipe, proto);
      await proto.made;
      t.pauseReading();
      pipe.write('held');
      await pause(loop, 0.02);
      expect(proto.received()).toBe(0);
      t.resumeReading();
      await proto.until(4);
      t.close();
      expect(await proto.lost).toBe(null);
      pipe.write('ignored');
      await pause(loop, 0.02);
    });
    expect(proto.bytes().toString()).toBe('held');
    expect(proto.events).toEqual(['made', 'data', 'lost']);
  });

  it('writes to a child stdin; writeEof() gives the child EOF and connectionLost(null)', async () => {
    const loop = newLoop();
    const child = spawn('/bin/cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
    cleanups.push(() => child.kill());
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    const exited = new Promise((r) => child.once('close', r));
    const proto = new Recorder(loop);
    const data = pattern(500_000);
    await loop.runUntilComplete(async () => {
      const t: WriteTransport = new WritePipeTransport(loop, child.stdin, proto);
      await proto.made;
      t.write(data.subarray(0, 100_000));
      t.writelines([data.subarray(100_000, 300_000), data.subarray(300_000)]);
      expect(t.canWriteEof()).toBe(true);
      t.writeEof();
      expect(t.isClosing()).toBe(true);
      t.write(Buffer.from('dropped')); // after close: dropped, not thrown
      expect(await proto.lost).toBe(null);
    });
    await exited;
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it('reports EPIPE as connectionLost(err) when the reader has gone away', async () => {
    const loop = newLoop();
    // The child closes its stdin but keeps running (Node destroys stdin itself once the child exits).
    const child = spawn('/bin/sh', ['-c', 'exec 0<&-; sleep 10'], { stdio: ['pipe', 'ignore', 'ignore'] });
    cleanups.push(() => child.kill());
    await new Promise((r) => setTimeout(r, 100));
    const proto = new Recorder(loop);
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    await loop.runUntilComplete(async () => {
      const t = new WritePipeTransport(loop, child.stdin, proto);
      await proto.made;
      for (let i = 0; i < 20 && !proto.lost.done(); i++) {
        t.write(pattern(65536));
        await pause(loop, 0.01);
      }
      const exc = await proto.lost;
      expect((exc as NodeJS.ErrnoException).code).toBe('EPIPE');
    });
    expect(contexts).toEqual([]);
    expect(proto.lostCount).toBe(1);
  });

  it('applies flow control to a write pipe whose reader does not read', async () => {
    const loop = newLoop();
    const pipe = new PassThrough({ highWaterMark: 1024 });
    const proto = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const t = new WritePipeTransport(loop, pipe, proto);
      await proto.made;
      t.setWriteBufferLimits(8192);
      for (let i = 0; i < 20; i++) t.write(pattern(1024));
      expect(proto.events.filter((e) => e === 'pause')).toHaveLength(1);
      pipe.resume(); // the reader drains
      await waitFor(loop, () => proto.events.includes('resume'));
      expect(t.getWriteBufferSize()).toBeLessThanOrEqual(2048);
      t.abort();
      expect(await proto.lost).toBe(null);
    });
    expect(proto.events.filter((e) => e === 'resume')).toHaveLength(1);
  });

  it('serves a read pipe and a write pipe over one stream (each transport gets its own listeners)', async () => {
    const loop = newLoop();
    const stream = new PassThrough();
    const reader = new Recorder(loop);
    const writer = new Recorder(loop);
    await loop.runUntilComplete(async () => {
      const r = new ReadPipeTransport(loop, stream, reader);
      const w = new WritePipeTransport(loop, stream, writer);
      await reader.made;
      await writer.made;
      w.write(pattern(10_000, 7));
      w.writelines([pattern(5_000, 8), pattern(5_000, 9)]);
      await reader.until(20_000);
      expect(reader.bytes().equals(Buffer.concat([pattern(10_000, 7), pattern(5_000, 8), pattern(5_000, 9)]))).toBe(true);
      expect(writer.chunks).toEqual([]);
      expect(r.getExtraInfo('pipe')).toBe(stream);
      expect(w.getExtraInfo('pipe')).toBe(stream);
      r.close();
      expect(await reader.lost).toBe(null);
      expect(await writer.lost).toBe(null);
    });
    expect(reader.lostCount).toBe(1);
    expect(writer.lostCount).toBe(1);
  });

  it('rejects something that is not a stream with a clear TypeError', () => {
    const loop = newLoop();
    expect(() => new ReadPipeTransport(loop, {} as never, new Protocol())).toThrow(/Readable/);
    expect(() => new WritePipeTransport(loop, null as never, new Protocol())).toThrow(/Writable/);
    expect(() => new StreamTransport(loop, 42 as never, new Protocol())).toThrow(/Duplex/);
    expect(() => new ReadPipeTransport(loop, new PassThrough(), null as never)).toThrow(/protocol/);
  });
});
