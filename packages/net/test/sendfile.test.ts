/**
 * sendfile over TCP, Unix sockets and TLS: a 256 MiB file arrives
 * byte-identical (hash) — zero-copy over TCP and Unix (`fallback: false`
 * succeeds only on that path), the read-and-write fallback over TLS — offset
 * and count are honoured and the file position ends at offset + sent, the
 * zero-copy path waits for the write buffer, refuses writes meanwhile, and
 * survives cancellation, a peer reset and close() without leaking an fd; a
 * Python asyncio peer receives it. The big file lives in a temp dir.
 */
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CancelledError, Protocol, RuntimeError, SendfileNotAvailableError, wrapFuture, type EventLoop, type Transport } from '@aioloop/core';
import { checkFdLeaks, Collector, delay, newLoop, onCleanup, startPeer, waitFor } from './support.js';
import { testPki } from './tls-support.js';
import '../src/index.js';

const PEER = fileURLToPath(new URL('./peers/asyncio_peer.py', import.meta.url));
const BIG = 256 * 1024 * 1024;
let dir: string;
let bigFile: string;
let bigHash: string;
let smallFile: string;
let small: Buffer;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioloop-sendfile-'));
  bigFile = path.join(dir, 'big.bin');
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(bigFile, 'w');
  const block = crypto.randomBytes(1024 * 1024);
  for (let i = 0; i < BIG / block.length; i++) {
    block.writeUInt32LE(i, (i * 97) % (block.length - 4)); // every MiB differs
    fs.writeSync(fd, block);
    hash.update(block);
  }
  fs.closeSync(fd);
  bigHash = hash.digest('hex');
  small = crypto.randomBytes(1024 * 1024 + 123);
  smallFile = path.join(dir, 'small.bin');
  fs.writeFileSync(smallFile, small);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(checkFdLeaks);

type Kind = 'TCP' | 'Unix' | 'TLS';

interface Received {
  bytes: number;
  hash: string;
  data: Buffer[];
}

/**
 * A receiver (Node server over TCP, a Unix socket or TLS) that hashes what
 * one connection sends until EOF. `hold`: the connection does not read until
 * `release()`; `resetAfter`: it resets the connection once that many bytes came.
 */
async function receiver(kind: Kind, opts: { hold?: boolean; resetAfter?: number } = {}): Promise<{ address: number | string; result: Promise<Received>; closed: Promise<void>; accepted: Promise<void>; release: () => void }> {
  let resolveResult!: (r: Received) => void;
  const result = new Promise<Received>((r) => (resolveResult = r));
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let socket: net.Socket | null = null;
  let resolveAccepted!: () => void;
  const accepted = new Promise<void>((r) => (resolveAccepted = r));
  let released = opts.hold !== true;
  const onConnection = (s: net.Socket): void => {
    socket = s;
    resolveAccepted();
    onCleanup(() => s.destroy());
    const hash = crypto.createHash('sha256');
    const data: Buffer[] = [];
    let bytes = 0;
    s.on('data', (d: Buffer) => {
      bytes += d.length;
      hash.update(d);
      if (bytes <= 4 * 1024 * 1024) data.push(d);
      if (opts.resetAfter !== undefined && bytes >= opts.resetAfter) s.resetAndDestroy();
    });
    if (!released) s.pause();
    s.on('error', () => {});
    s.on('close', () => resolveClosed());
    s.on('end', () => {
      s.end();
      resolveResult({ bytes, hash: hash.digest('hex'), data });
    });
  };
  const pki = testPki();
  const server = kind === 'TLS' ? tls.createServer({ cert: pki.cert, key: pki.key }, onConnection) : net.createServer(onConnection);
  if (kind === 'Unix') {
    const where = path.join(dir, `rx-${crypto.randomBytes(4).toString('hex')}.sock`);
    await new Promise<void>((r) => server.listen(where, r));
    onCleanup(() => server.close());
    return { address: where, result, closed, accepted, release: () => ((released = true), socket?.resume()) };
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => server.close());
  return { address: (server.address() as net.AddressInfo).port, result, closed, accepted, release: () => ((released = true), socket?.resume()) };
}

class Client extends Protocol {
  transport!: Transport;
  paused = 0;
  resumed = 0;
  lost: Error | null | undefined = undefined;
  override connectionMade(t: Transport): void {
    this.transport = t;
  }
  override pauseWriting(): void {
    this.paused++;
  }
  override resumeWriting(): void {
    this.resumed++;
  }
  override connectionLost(exc: Error | null): void {
    this.lost = exc;
  }
}

async function connect(loop: EventLoop, address: number | string, kind: Kind): Promise<[Transport, Client]> {
  const client = new Client();
  if (kind === 'TLS') {
    const [transport] = await loop.runUntilComplete(loop.createConnection(() => client, '127.0.0.1', address as number, { ssl: { ca: testPki().ca } }));
    return [transport, client];
  }
  if (kind === 'Unix') {
    const [transport] = await loop.runUntilComplete(loop.createUnixConnection(() => client, address as string));
    return [transport, client];
  }
  const [transport] = await loop.runUntilComplete(loop.createConnection(() => client, '127.0.0.1', address as number));
  return [transport, client];
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** The bytes at the fd's own position (read without a position, as Python's file.read()). */
function readAtPosition(fd: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  return b.subarray(0, fs.readSync(fd, b, 0, n, null));
}

describe.each([
  ['TCP', 'TCP', false],
  ['Unix', 'Unix', false],
  ['TLS (fallback)', 'TLS', true],
] as [string, Kind, boolean][])('sendfile over %s', (_name, kind, fallback) => {
  it('sends a 256 MiB file byte-identical (sha256) and returns the count', async () => {
    const loop = newLoop();
    const { address, result } = await receiver(kind);
    const [transport, client] = await connect(loop, address, kind);
    const file = await fs.promises.open(bigFile, 'r');
    onCleanup(() => void file.close());
    let maxBuffered = 0;
    const probe = setInterval(() => (maxBuffered = Math.max(maxBuffered, transport.getWriteBufferSize())), 1);
    // fallback: false succeeds only where sendfile(2) runs: TCP and Unix go zero-copy.
    const sent = await loop.runUntilComplete(loop.sendfile(transport as never, file, 0, null, { fallback }));
    clearInterval(probe);
    expect(sent).toBe(BIG);
    // The fallback is bounded by the water mark (one block above it at most); zero-copy queues nothing.
    expect(maxBuffered).toBeLessThanOrEqual(fallback ? 64 * 1024 + 256 * 1024 : 0);
    // The caller's protocol is back: its flow-control callbacks were not disturbed.
    expect(transport.getProtocol()).toBe(client);
    expect(transport.isReading()).toBe(true);
    transport.close();
    const got = await loop.runUntilComplete(wrapFuture(result, loop));
    expect(got.bytes).toBe(BIG);
    expect(got.hash).toBe(bigHash);
  }, 180_000);

  it('honours offset and count, stops at the end of the file, and leaves the position at offset + sent', async () => {
    const loop = newLoop();
    const { address, result } = await receiver(kind);
    const [transport] = await connect(loop, address, kind);
    const fd = fs.openSync(smallFile, 'r');
    onCleanup(() => fs.closeSync(fd));
    expect(await loop.runUntilComplete(loop.sendfile(transport as never, fd, 1000, 300_001, { fallback }))).toBe(300_001);
    expect(readAtPosition(fd, 16).equals(small.subarray(301_001, 301_017))).toBe(true);
    expect(await loop.runUntilComplete(loop.sendfile(transport as never, fd, small.length - 10, 1000, { fallback }))).toBe(10);
    expect(readAtPosition(fd, 16).length).toBe(0);
    expect(await loop.runUntilComplete(loop.sendfile(transport as never, fd, small.length + 5, null, { fallback }))).toBe(0);
    transport.write(Buffer.from('END'));
    transport.close();
    const got = await loop.runUntilComplete(wrapFuture(result, loop));
    const expected = Buffer.concat([small.subarray(1000, 301_001), small.subarray(small.length - 10), Buffer.from('END')]);
    expect(Buffer.concat(got.data).equals(expected)).toBe(true);
  });
});

describe('zero-copy sendfile', () => {
  it('waits for the write buffer to empty, refuses writes and pauses reading meanwhile, then restores both', async () => {
    const loop = newLoop();
    const { address, result, release } = await receiver('TCP', { hold: true });
    const [transport] = await connect(loop, address, 'TCP');
    const before = Buffer.alloc(8 * 1024 * 1024, 7);
    transport.write(before);
    expect(transport.getWriteBufferSize()).toBeGreaterThan(0);
    const fd = fs.openSync(smallFile, 'r');
    onCleanup(() => fs.closeSync(fd));
    const task = loop.sendfile(transport as never, fd, 0, null, { fallback: false });
    const sent = await loop.runUntilComplete(async () => {
      await delay(loop, 0);
      expect(transport.isReading()).toBe(false);
      expect(() => transport.write(Buffer.from('x'))).toThrow(/unable to write; sendfile is in progress/);
      expect(() => transport.writelines([Buffer.from('x')])).toThrow(/unable to writelines; sendfile is in progress/);
      release();
      return await task;
    });
    expect(sent).toBe(small.length);
    expect(transport.isReading()).toBe(true);
    transport.write(Buffer.from('after'));
    transport.close();
    const got = await loop.runUntilComplete(wrapFuture(result, loop));
    const expected = Buffer.concat([before, small, Buffer.from('after')]);
    expect(got.bytes).toBe(expected.length);
    expect(got.hash).toBe(crypto.createHash('sha256').update(expected).digest('hex'));
  });

  it('cancelling it stops the send, closes its duplicate fd and restores reading and writing', async () => {
    const loop = newLoop();
    const { address, release, result, accepted } = await receiver('TCP', { hold: true });
    const [transport, client] = await connect(loop, address, 'TCP');
    await accepted; // the receiver's socket is open before the fds are counted
    const fd = fs.openSync(bigFile, 'r');
    onCleanup(() => fs.closeSync(fd));
    const fdsBefore = openFds();
    const task = loop.sendfile(transport as never, fd, 0, null, { fallback: false });
    const error = await loop.runUntilComplete(async () => {
      // The receiver does not read: the send fills the socket buffers and waits for writability.
      await waitFor(loop, () => openFds() > fdsBefore, 10, 'the duplicate fd');
      await delay(loop, 0.05);
      task.cancel();
      return await task.then(
        () => null,
        (e: unknown) => e,
      );
    });
    expect(error).toBeInstanceOf(CancelledError);
    expect(openFds()).toBe(fdsBefore);
    expect(transport.isReading()).toBe(true);
    expect(transport.isClosing()).toBe(false);
    expect(client.lost).toBe(undefined);
    transport.write(Buffer.from('still usable'));
    release();
    transport.close();
    const got = await loop.runUntilComplete(wrapFuture(result, loop));
    expect(got.bytes).toBeGreaterThan(0);
  });

  it('a peer reset mid-send rejects with the system error, and the protocol then hears of the loss', async () => {
    const loop = newLoop();
    const { address } = await receiver('TCP', { resetAfter: 4 * 1024 * 1024 });
    const [transport, client] = await connect(loop, address, 'TCP');
    const fd = fs.openSync(bigFile, 'r');
    onCleanup(() => fs.closeSync(fd));
    const error = (await loop.runUntilComplete(loop.sendfile(transport as never, fd, 0, null, { fallback: false })).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(['ECONNRESET', 'EPIPE']).toContain(error.code);
    await loop.runUntilComplete(waitFor(loop, () => client.lost !== undefined, 10, 'connectionLost'));
    transport.close();
  });

  it('close() during the send ends it with ConnectionError-like ECONNRESET; connectionLost(null) follows and the peer sees the close', async () => {
    const loop = newLoop();
    const { address, release, closed, accepted } = await receiver('TCP', { hold: true });
    const [transport, client] = await connect(loop, address, 'TCP');
    await accepted;
    const fd = fs.openSync(bigFile, 'r');
    onCleanup(() => fs.closeSync(fd));
    const fdsBefore = openFds();
    const task = loop.sendfile(transport as never, fd, 0, null, { fallback: false });
    const error = (await loop.runUntilComplete(async () => {
      await delay(loop, 0.05);
      transport.close();
      return await task.then(
        () => null,
        (e: unknown) => e,
      );
    })) as NodeJS.ErrnoException;
    expect(error.code).toBe('ECONNRESET');
    expect(error.message).toMatch(/Connection is closed/);
    await loop.runUntilComplete(waitFor(loop, () => client.lost !== undefined, 10, 'connectionLost'));
    expect(client.lost).toBe(null);
    expect(openFds()).toBeLessThanOrEqual(fdsBefore);
    release();
    await closed;
  });

  it('a file sendfile(2) cannot read goes through the fallback, or rejects with fallback: false', async () => {
    const loop = newLoop();
    const { address, result } = await receiver('TCP');
    const [transport] = await connect(loop, address, 'TCP');
    const zero = fs.openSync('/dev/zero', 'r');
    onCleanup(() => fs.closeSync(zero));
    const error = await loop.runUntilComplete(loop.sendfile(transport as never, zero, 0, 1000, { fallback: false })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendfileNotAvailableError);
    expect(transport.isReading()).toBe(true);
    expect(await loop.runUntilComplete(loop.sendfile(transport as never, zero, 0, 1000))).toBe(1000);
    transport.close();
    const got = await loop.runUntilComplete(wrapFuture(result, loop));
    expect(Buffer.concat(got.data).equals(Buffer.alloc(1000))).toBe(true);
  });

  it("runs from a server's accepted transport (reads into the transport's buffers) and the client gets the file", async () => {
    const loop = newLoop();
    const fd = fs.openSync(smallFile, 'r');
    onCleanup(() => fs.closeSync(fd));
    const sent = loop.createFuture<number>();
    class Sender extends Protocol {
      override connectionMade(t: Transport): void {
        const task = loop.sendfile(t as never, fd, 0, null, { fallback: false });
        task.addDoneCallback(() => {
          if (task.exception() !== null) sent.setException(task.exception());
          else sent.setResult(task.result());
          t.close();
        });
      }
    }
    const server = await loop.runUntilComplete(loop.createServer(() => new Sender(), '127.0.0.1', 0));
    const [, port] = server.sockets[0]!.getsockname() as [string, number];
    const received = new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = net.connect(port, '127.0.0.1');
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks)));
    });
    expect(await loop.runUntilComplete(sent)).toBe(small.length);
    expect((await loop.runUntilComplete(wrapFuture(received, loop))).equals(small)).toBe(true);
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  });

  it('a Python asyncio server receives the file byte-identical', async () => {
    const loop = newLoop();
    const peer = startPeer(PEER, ['server-halfclose']);
    const port = Number(await peer.nextLine());
    await loop.runUntilComplete(async () => {
      const [t, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);
      const fd = fs.openSync(smallFile, 'r');
      try {
        expect(await loop.sendfile(t as never, fd, 5, null, { fallback: false })).toBe(small.length - 5);
      } finally {
        fs.closeSync(fd);
      }
      t.writeEof();
      await p.eof;
      const expected = small.subarray(5);
      expect(p.bytes().toString()).toBe(`got ${expected.length} ${crypto.createHash('sha256').update(expected).digest('hex')}`);
      t.close();
    });
    expect(await peer.exited).toBe(0);
  });
});

describe('sendfile errors', () => {
  it('fallback: false over TLS rejects with SendfileNotAvailableError (TLS encrypts in user space)', async () => {
    const loop = newLoop();
    const { address } = await receiver('TLS');
    const [transport] = await connect(loop, address, 'TLS');
    const fd = fs.openSync(smallFile, 'r');
    const error = await loop.runUntilComplete(loop.sendfile(transport as never, fd, 0, null, { fallback: false })).catch((e: unknown) => e);
    fs.closeSync(fd);
    expect(error).toBeInstanceOf(SendfileNotAvailableError);
    expect((error as Error).message).toMatch(/fallback is disabled and native sendfile is not supported.*TLS encrypts in user space/);
    transport.abort();
    await loop.runUntilComplete(delay(loop, 0));
  });

  it("checks its arguments with asyncio's wording", async () => {
    const loop = newLoop();
    const { address } = await receiver('TCP');
    const [transport] = await connect(loop, address, 'TCP');
    const t = transport as never;
    expect(() => loop.sendfile(t, 'x' as never)).toThrow(/file must be an open fs\.promises\.FileHandle or a file descriptor number/);
    expect(() => loop.sendfile(t, 0, -1)).toThrow(/offset must be a non-negative integer \(got -1\)/);
    expect(() => loop.sendfile(t, 0, 0, 0)).toThrow(/count must be a positive integer \(got 0\)/);
    expect(() => loop.sendfile({} as never, 0)).toThrow(RuntimeError);
    transport.close();
    expect(() => loop.sendfile(t, 0)).toThrow(/Transport is closing/);
    await loop.runUntilComplete(waitFor(loop, () => true));
  });
});
