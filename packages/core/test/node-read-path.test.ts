/**
 * Accepted sockets read into the transport's buffers through Node's private
 * `onread` fields (stream/node-private.ts). If a Node release renames or drops
 * them, aioloop quietly falls back to 'data' events; these tests make that
 * fall-back loud. Run them on every Node aioloop supports (20, 22, 24):
 *   cd packages/core && npx -y node@24 ../../node_modules/vitest/vitest.mjs run test/node-read-path.test.ts
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectedPair } from './support.js';
import { BufferedProtocol, EventLoop, StreamTransport, nodeReadPath, setLogger, type Logger, type Transport } from '../src/index.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});


/** Receives straight into its own buffer: only the buffers path asks getBuffer(-1) before the bytes arrive. */
class ZeroCopy extends BufferedProtocol {
  override readonly zeroCopyReads = true;
  readonly buf = Buffer.alloc(4096);
  readonly sizeHints: number[] = [];
  readonly got: Buffer[] = [];
  total = 0;
  transport: Transport | null = null;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  getBuffer(sizeHint: number): Uint8Array {
    this.sizeHints.push(sizeHint);
    return this.buf;
  }
  bufferUpdated(nbytes: number): void {
    this.got.push(Buffer.from(this.buf.subarray(0, nbytes)));
    this.total += nbytes;
  }
}

describe("Node's private onread fields (the read path of accepted sockets)", () => {
  it('are found when the module loads', () => {
    const path = nodeReadPath();
    expect(path.onreadSymbols, `net.Socket on Node ${path.node} has no kBuffer/kBufferCb/kBufferGen symbols: accepted sockets fall back to 'data' events (stream/node-private.ts)`).toBe(true);
    expect(path.reason).toBe(null);
  });

  it("switch an accepted socket to reads into the transport's buffers, and the loop in debug mode says so once", async () => {
    const logged: string[] = [];
    const record = (message: string) => logged.push(message);
    const logger: Logger = { debug: record, warn: record, error: record };
    setLogger(logger);
    cleanups.push(() => setLogger(null));
    const loop = new EventLoop({ debug: true });
    cleanups.push(() => loop.close());
    const { accepted: ours, client: peer } = await connectedPair('127.0.0.1', { pauseOnConnect: true });
    const protocol = new ZeroCopy();
    const payload = Buffer.alloc(50_000, 7);
    await loop.runUntilComplete(async () => {
      new StreamTransport(loop, ours, protocol, { readIntoBuffers: true });
      peer.write(payload);
      while (protocol.total < payload.length) await new Promise((r) => setTimeout(r, 5));
      protocol.transport?.close();
    });
    const path = nodeReadPath();
    expect(path.acceptedSockets, `accepted sockets read through 'data' events on Node ${path.node}: ${path.reason ?? ''}`).toBe('buffers');
    // Only the buffers path asks for the next read's buffer (-1) before the bytes arrive: one ask more than reads.
    expect(protocol.sizeHints.every((hint) => hint === -1)).toBe(true);
    expect(protocol.sizeHints.length).toBe(protocol.got.length + 1);
    expect(Buffer.concat(protocol.got).equals(payload)).toBe(true);
    expect(logged.filter((m) => m.includes('accepted sockets read through'))).toEqual([
      `aioloop: accepted sockets read through the transport's buffers (Node's onread internals) on Node ${process.versions.node}`,
    ]);
  });
});
