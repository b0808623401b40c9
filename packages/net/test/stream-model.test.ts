/**
 * Model-based test of stream transports: random interleavings of write /
 * writelines / writeEof / pauseReading / resumeReading / close / abort on one
 * end, and writes, pauses, half-close and reset from the peer, checked against
 * a model of what asyncio promises: every byte written before close() arrives
 * once and in order (all of it unless the connection was aborted or reset),
 * connectionLost fires exactly once on each end and nothing after it, and
 * pauseWriting/resumeWriting alternate. Runs over TCP, TLS, a Unix socket, the
 * in-memory pair and sockets made by @aioloop/native-sockets; other
 * transports join with one more `kinds` row.
 * Bounded in CI; AIOLOOP_PROPERTY_RUNS raises it, AIOLOOP_PROPERTY_SEED replays.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventLoop, Protocol, sleep, type Transport } from '@aioloop/core';
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_LINGER, Socket, socket } from '../src/index.js';
import { testPki } from './tls-support.js';

interface ModelPair {
  client: Transport;
  server: Transport;
  /** The peer resets the connection (TCP RST where the transport allows it). */
  reset(): void;
  cleanup(): Promise<void>;
}
type MakePair = (loop: EventLoop, client: () => Side, server: () => Side) => Promise<ModelPair>;

interface MemoryEnd extends Transport {
  _reset(exc: Error): void;
}
interface MemoryStreamModule {
  createStreamPair(loop: EventLoop, a: () => Side, b: () => Side, options: { bufferSize: number }): PromiseLike<[[MemoryEnd, Side], [MemoryEnd, Side]]>;
  systemError(code: string, message: string): Error;
}

/** A protocol that records everything the model checks. */
class Side extends Protocol {
  transport: Transport | null = null;
  readonly chunks: Buffer[] = [];
  events: string[] = [];
  lost: (Error | null)[] = [];
  afterLost: string[] = [];
  constructor(private readonly loop: EventLoop) {
    super();
  }
  private note(event: string): void {
    if (this.lost.length > 0) this.afterLost.push(event);
    this.events.push(event);
  }
  override connectionMade(t: Transport): void {
    this.transport = t;
    this.note('made');
  }
  override dataReceived(data: Buffer): void {
    this.note('data');
    this.chunks.push(Buffer.from(data));
  }
  override eofReceived(): boolean {
    this.note('eof');
    return true; // stay open half-closed, as a protocol that still writes would
  }
  override pauseWriting(): void {
    this.note('pause');
  }
  override resumeWriting(): void {
    this.note('resume');
  }
  override connectionLost(exc: Error | null): void {
    this.note('lost');
    this.lost.push(exc);
  }
  received(): Buffer {
    return Buffer.concat(this.chunks);
  }
  async waitLost(seconds = 20): Promise<void> {
    const end = this.loop.time() + seconds;
    while (this.lost.length === 0) {
      if (this.loop.time() > end) throw new Error(`connectionLost not called within ${seconds} s; events ${this.events.join(',')}`);
      await sleep(0.005);
    }
  }
}

/** A repeatable byte stream: byte i of everything a side writes is f(i), so order and gaps show. */
class Stream {
  offset = 0;
  constructor(private readonly salt: number) {}
  next(size: number): Buffer {
    const b = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) b[i] = ((this.offset + i) * 7 + ((this.offset + i) >>> 8) + this.salt) & 0xff;
    this.offset += size;
    return b;
  }
  expected(length: number): Buffer {
    const s = new Stream(this.salt);
    return s.next(length);
  }
}

type Op =
  | { kind: 'write'; size: number }
  | { kind: 'writelines'; sizes: number[] }
  | { kind: 'writeEof' | 'pauseReading' | 'resumeReading' | 'close' | 'abort' | 'tick' | 'wait' }
  | { kind: 'peerWrite'; size: number }
  | { kind: 'peerPause' | 'peerResume' | 'peerHalfClose' | 'peerReset' };

const size = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 256 * 1024 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: size.map<Op>((s) => ({ kind: 'write', size: s })) },
  { weight: 2, arbitrary: fc.array(size, { minLength: 1, maxLength: 4 }).map<Op>((sizes) => ({ kind: 'writelines', sizes })) },
  { weight: 3, arbitrary: fc.constantFrom<Op>({ kind: 'tick' }, { kind: 'wait' }, { kind: 'pauseReading' }, { kind: 'resumeReading' }, { kind: 'peerPause' }, { kind: 'peerResume' }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 32 * 1024 }).map<Op>((s) => ({ kind: 'peerWrite', size: s })) },
  { weight: 1, arbitrary: fc.constantFrom<Op>({ kind: 'writeEof' }, { kind: 'close' }, { kind: 'abort' }, { kind: 'peerHalfClose' }, { kind: 'peerReset' }) },
);

function propertyRuns(ci: number): { numRuns: number; seed?: number; path?: string } {
  const runs = Number(process.env.AIOLOOP_PROPERTY_RUNS ?? ci);
  const seed = process.env.AIOLOOP_PROPERTY_SEED;
  const path = process.env.AIOLOOP_PROPERTY_PATH;
  return { numRuns: runs, ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

async function runModel(makePair: MakePair, ops: Op[]): Promise<void> {
  const loop = new EventLoop();
  try {
    await loop.runUntilComplete(async () => {
      const ours = new Side(loop);
      const peer = new Side(loop);
      const pair = await makePair(loop, () => ours, () => peer);
      const t = pair.client;
      const p = pair.server;
      const out = new Stream(1);
      const back = new Stream(2);
      let closing = false;
      let eofSent = false;
      let peerEofSent = false;
      let broken = false; // abort or reset: only a prefix is promised
      let unreadAtClose = false;
      try {
        for (const o of ops) {
          switch (o.kind) {
            case 'write':
              if (!closing && !eofSent && !broken) t.write(out.next(o.size));
              break;
            case 'writelines':
              if (!closing && !eofSent && !broken) t.writelines(o.sizes.map((s) => out.next(s)));
              break;
            case 'writeEof':
              if (!closing && !eofSent && !broken && t.canWriteEof()) {
                t.writeEof();
                eofSent = true;
              }
              break;
            case 'pauseReading':
              if (!closing && !broken) t.pauseReading();
              break;
            case 'resumeReading':
              if (!closing && !broken) t.resumeReading();
              break;
            case 'close':
              unreadAtClose ||= back.offset > ours.received().length;
              t.close();
              closing = true;
              break;
            case 'abort':
              t.abort();
              closing = true;
              broken = true;
              break;
            case 'tick':
              await sleep(0);
              break;
            case 'wait':
              await sleep(0.01);
              break;
            case 'peerWrite':
              if (!peerEofSent && !broken && !p.isClosing()) {
                p.write(back.next(o.size));
                // Bytes reaching an end that closed stay unread there (see below).
                if (closing) unreadAtClose = true;
              }
              break;
            case 'peerPause':
              if (!broken && !p.isClosing()) p.pauseReading();
              break;
            case 'peerResume':
              if (!broken && !p.isClosing()) p.resumeReading();
              break;
            case 'peerHalfClose':
              if (!peerEofSent && !broken && !p.isClosing() && p.canWriteEof()) {
                p.writeEof();
                peerEofSent = true;
              }
              break;
            case 'peerReset':
              if (!broken) {
                pair.reset();
                broken = true;
              }
              break;
          }
        }
        // Let everything through, then close both ends.
        if (!broken && !p.isClosing()) p.resumeReading();
        if (!closing && !broken) t.resumeReading();
        if (!closing) unreadAtClose ||= back.offset > ours.received().length;
        t.close();
        // Closing a socket with received bytes unread makes the kernel send a reset
        // (RST), which drops what the peer has not read yet: asyncio loses the same
        // bytes. Only a prefix is promised then.
        if (unreadAtClose) broken = true;
        await ours.waitLost();
        if (!broken) {
          // The peer gets every byte and the EOF that close() sends after them.
          const end = loop.time() + 20;
          while (peer.received().length < out.offset || !peer.events.includes('eof')) {
            if (peer.lost.length > 0 || loop.time() > end) break;
            await sleep(0.005);
          }
        }
        p.close();
        await peer.waitLost();
        await sleep(0.02);

        // The model's promises.
        expect(ours.lost).toHaveLength(1);
        expect(peer.lost).toHaveLength(1);
        expect(ours.afterLost).toEqual([]);
        expect(peer.afterLost).toEqual([]);
        if (!broken) expect(ours.lost[0]).toBeNull();
        for (const side of [ours, peer]) {
          const flow = side.events.filter((e) => e === 'pause' || e === 'resume');
          flow.forEach((e, i) => expect(e).toBe(i % 2 === 0 ? 'pause' : 'resume'));
          expect(side.events.filter((e) => e === 'eof').length).toBeLessThanOrEqual(1);
          expect(side.events[0]).toBe('made');
        }
        const got = peer.received();
        const sent = out.expected(out.offset);
        if (broken) {
          expect(got.length).toBeLessThanOrEqual(sent.length);
          expect(got.equals(sent.subarray(0, got.length))).toBe(true);
        } else {
          expect(got.length).toBe(sent.length);
          expect(got.equals(sent)).toBe(true);
        }
        const gotBack = ours.received();
        expect(gotBack.length).toBeLessThanOrEqual(back.offset);
        expect(gotBack.equals(back.expected(gotBack.length))).toBe(true);
      } finally {
        if (!t.isClosing()) t.abort();
        if (!p.isClosing()) p.abort();
        await pair.cleanup();
      }
    });
  } finally {
    if (!loop.isRunning()) loop.close();
  }
}

// ----------------------------------------------------------------- the pairs

/**
 * A real RST from the peer's TCP socket. Node's resetAndDestroy() cannot follow
 * end(): libuv refuses uv_tcp_close_reset after a shutdown (EINVAL) and Node
 * then never closes the handle, which stays active for good. SO_LINGER 0 set
 * through a duplicate of the fd, then destroy(), sends the same RST.
 */
function resetTcp(sock: net.Socket): void {
  if (!sock.writableEnded) {
    sock.resetAndDestroy();
    return;
  }
  const fd = (sock as unknown as { _handle: { fd: number } | null })._handle?.fd ?? -1;
  if (fd >= 0) {
    const dup = Socket.fromFd(fd);
    const linger = Buffer.alloc(8); // struct linger { int l_onoff = 1; int l_linger = 0; }
    linger.writeInt32LE(1, 0);
    dup.setsockopt(SOL_SOCKET, SO_LINGER, linger);
    dup.close();
  }
  sock.destroy();
}

async function serverPair(
  loop: EventLoop,
  client: () => Side,
  server: () => Side,
  listen: (factory: () => Side) => Promise<{ close(): void; waitClosed(): PromiseLike<void> }>,
  connect: (factory: () => Side) => Promise<[Transport, Side]>,
): Promise<Omit<ModelPair, 'reset'>> {
  const accepted = loop.createFuture<Transport>();
  const srv = await listen(() => {
    const side = server();
    const made = side.connectionMade.bind(side);
    side.connectionMade = (t: Transport) => {
      made(t);
      if (!accepted.done()) accepted.setResult(t);
    };
    return side;
  });
  const [t] = await connect(client);
  const s = await accepted;
  return {
    client: t,
    server: s,
    cleanup: async () => {
      srv.close();
      await srv.waitClosed();
    },
  };
}

const kinds: [string, MakePair][] = [
  [
    'TCP over 127.0.0.1',
    async (loop, client, server) => {
      let port = 0;
      const pair = await serverPair(
        loop,
        client,
        server,
        async (f) => {
          const srv = await loop.createServer(f, '127.0.0.1', 0);
          port = (srv.sockets[0]!.getsockname() as [string, number])[1];
          return srv;
        },
        (f) => loop.createConnection(f, '127.0.0.1', port),
      );
      // A real RST: Node's resetAndDestroy() closes with SO_LINGER 0.
      return { ...pair, reset: () => resetTcp(pair.server.getExtraInfo('socket') as net.Socket) };
    },
  ],
  [
    'TLS over 127.0.0.1 (writeEof refused, as asyncio refuses it for TLS)',
    async (loop, client, server) => {
      const pki = testPki();
      let port = 0;
      const pair = await serverPair(
        loop,
        client,
        server,
        async (f) => {
          const srv = await loop.createServer(f, '127.0.0.1', 0, { ssl: { cert: pki.cert, key: pki.key } });
          port = (srv.sockets[0]!.getsockname() as [string, number])[1];
          return srv;
        },
        (f) => loop.createConnection(f, '127.0.0.1', port, { ssl: { ca: pki.ca }, serverHostname: 'localhost' }),
      );
      // 'socket' is the TCP socket under the TLS layer: a real RST on it.
      return { ...pair, reset: () => resetTcp(pair.server.getExtraInfo('socket') as net.Socket) };
    },
  ],
  [
    'TCP over native sockets (sock= handover of @aioloop/native-sockets Sockets)',
    async (loop, client, server) => {
      const listening = socket(AF_INET, SOCK_STREAM);
      listening.bind(['127.0.0.1', 0]);
      const address = listening.getsockname() as [string, number];
      const pair = await serverPair(
        loop,
        client,
        server,
        (f) => loop.createServer(f, null, null, { sock: listening }),
        async (f) => {
          const sock = socket(AF_INET, SOCK_STREAM);
          sock.setblocking(false);
          await loop.sockConnect(sock, address);
          return loop.createConnection(f, null, null, { sock });
        },
      );
      return { ...pair, reset: () => resetTcp(pair.server.getExtraInfo('socket') as net.Socket) };
    },
  ],
  [
    'Unix socket',
    async (loop, client, server) => {
      const dir = mkdtempSync(join(tmpdir(), 'aioloop-model-'));
      const path = join(dir, 'sock');
      const pair = await serverPair(
        loop,
        client,
        server,
        (f) => loop.createUnixServer(f, path),
        (f) => loop.createUnixConnection(f, path),
      );
      return {
        ...pair,
        // No RST on Unix sockets: the peer's abrupt close is the nearest fault.
        reset: () => pair.server.abort(),
        cleanup: async () => {
          await pair.cleanup();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'in-memory pair (@aioloop/testing, 4 KiB receive buffer)',
    async (loop, client, server) => {
      // @aioloop/testing is not a dependency of this package: loaded from its sources, typed with the part used.
      const memory = (await import(/* @vite-ignore */ new URL('../../testing/src/memory-stream.ts', import.meta.url).pathname)) as MemoryStreamModule;
      const [[a], [b]] = await memory.createStreamPair(loop, client, server, { bufferSize: 4096 });
      return {
        client: a,
        server: b,
        reset: () => {
          a._reset(memory.systemError('ECONNRESET', 'connection reset by peer'));
          b.abort();
        },
        cleanup: async () => {},
      };
    },
  ],
];

describe.each(kinds)('stream transport model: %s', (_name, makePair) => {
  it('matches the model for random interleavings of writes, flow control, close, abort, half-close and reset', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => runModel(makePair, ops)),
      { ...propertyRuns(12), verbose: 1, endOnFailure: true },
    );
  }, 120_000);
});
