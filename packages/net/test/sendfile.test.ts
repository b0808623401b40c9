/**
 * sendfile over TCP and TLS: a 256 MiB file arrives byte-identical (hash),
 * offset and count are honoured, the transport's flow control bounds memory,
 * fallback: false rejects where zero-copy is impossible. The big file lives
 * in a temp dir and is deleted afterwards.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Protocol, RuntimeError, SendfileNotAvailableError, wrapFuture, type EventLoop, type Transport } from '@aioloop/core';
import { newLoop, onCleanup, waitFor } from './support.js';
import { testPki } from './tls-support.js';
import '../src/index.js';

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

/** A receiver (Node server, plain or TLS) that hashes what one connection sends until it closes. */
async function receiver(secure: boolean): Promise<{ port: number; result: Promise<{ bytes: number; hash: string; data: Buffer[] }> }> {
  let resolveResult!: (r: { bytes: number; hash: string; data: Buffer[] }) => void;
  const result = new Promise<{ bytes: number; hash: string; data: Buffer[] }>((r) => (resolveResult = r));
  const onConnection = (s: net.Socket): void => {
    const hash = crypto.createHash('sha256');
    const data: Buffer[] = [];
    let bytes = 0;
    s.on('data', (d: Buffer) => {
      bytes += d.length;
      hash.update(d);
      if (bytes <= 4 * 1024 * 1024) data.push(d);
    });
    s.on('error', () => {});
    s.on('end', () => {
      s.end();
      resolveResult({ bytes, hash: hash.digest('hex'), data });
    });
  };
  const pki = testPki();
  const server = secure ? tls.createServer({ cert: pki.cert, key: pki.key }, onConnection) : net.createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, result };
}

class Client extends Protocol {
  transport!: Transport;
  paused = 0;
  resumed = 0;
  override connectionMade(t: Transport): void {
    this.transport = t;
  }
  override pauseWriting(): void {
    this.paused++;
  }
  override resumeWriting(): void {
    this.resumed++;
  }
}

async function connect(loop: EventLoop, port: number, secure: boolean): Promise<[Transport, Client]> {
  const client = new Client();
  const pki = testPki();
  if (secure) {
    const [transport] = await loop.runUntilComplete(loop.createConnection(() => client, '127.0.0.1', port, { ssl: { ca: pki.ca } }));
    return [transport, client];
  }
  const [transport] = await loop.runUntilComplete(loop.createConnection(() => client, '127.0.0.1', port));
  return [transport, client];
}

describe.each([
  ['TCP', false],
  ['TLS', true],
])('sendfile over %s', (_name, secure) => {
  it('sends a 256 MiB file byte-identical (sha256), through the flow control, and returns the count', async () => {
    const loop = newLoop();
    const { port, result } = await receiver(secure);
    const [transport, client] = await connect(loop, port, secure);
    const file = await fs.promises.open(bigFile, 'r');
    onCleanup(() => void file.close());
    let maxBuffered = 0;
    const probe = setInterval(() => (maxBuffered = Math.max(maxBuffered, transport.getWriteBufferSize())), 1);
    const sent = await loop.runUntilComplete(loop.sendfile(transport as never, file, 0, null));
    clearInterval(probe);
    expect(sent).toBe(BIG);
    // The transport's own water mark bounds what is queued (one block above it at most).
    expect(maxBuffered).toBeLessThanOrEqual(64 * 1024 + 256 * 1024);
    // The caller's protocol is back: its flow-control callbacks were not disturbed by the helper.
    expect(transport.getProtocol()).toBe(client);
    transport.close();
    const got = await loop.runUntilComplete(wrapFuture(result, loop));
    expect(got.bytes).toBe(BIG);
    expect(got.hash).toBe(bigHash);
  }, 180_000);

  it('honours offset and count (and stops at the end of the file)', async () => {
    const loop = newLoop();
    const { port, result } = await receiver(secure);
    const [transport] = await connect(loop, port, secure);
    const fd = fs.openSync(smallFile, 'r');
    onCleanup(() => fs.closeSync(fd));
    expect(await loop.runUntilComplete(loop.sendfile(transport as never, fd, 1000, 300_001))).toBe(300_001);
    expect(await loop.runUntilComplete(loop.sendfile(transport as never, fd, small.length - 10, 1000))).toBe(10);
    expect(await loop.runUntilComplete(loop.sendfile(transport as never, fd, small.length + 5))).toBe(0);
    transport.write(Buffer.from('END'));
    transport.close();
    const got = await loop.runUntilComplete(wrapFuture(result, loop));
    const expected = Buffer.concat([small.subarray(1000, 301_001), small.subarray(small.length - 10), Buffer.from('END')]);
    expect(Buffer.concat(got.data).equals(expected)).toBe(true);
  });
});

describe('sendfile errors', () => {
  it('fallback: false rejects with SendfileNotAvailableError (no zero-copy path over TLS, nor without the native part)', async () => {
    const loop = newLoop();
    for (const secure of [true, false]) {
      const { port } = await receiver(secure);
      const [transport] = await connect(loop, port, secure);
      const fd = fs.openSync(smallFile, 'r');
      const error = await loop.runUntilComplete(loop.sendfile(transport as never, fd, 0, null, { fallback: false })).catch((e: unknown) => e);
      fs.closeSync(fd);
      expect(error).toBeInstanceOf(SendfileNotAvailableError);
      expect((error as Error).message).toMatch(/fallback is disabled and native sendfile is not supported/);
      transport.abort();
    }
  });

  it("checks its arguments with asyncio's wording", async () => {
    const loop = newLoop();
    const { port } = await receiver(false);
    const [transport] = await connect(loop, port, false);
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
