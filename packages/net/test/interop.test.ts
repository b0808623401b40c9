import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Protocol, wrapFuture, type Transport } from '@aioloop/core';
import type { Server } from '../src/index.js';
import { Collector, newLoop, startPeer } from './support.js';

const PEER = fileURLToPath(new URL('./peers/asyncio_peer.py', import.meta.url));

function startPeerHere(args: string[]): ReturnType<typeof startPeer> {
  return startPeer(PEER, args);
}

function peerPattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

describe('interop with Python asyncio', () => {
  it('a Python client half-closes to our server, which answers after EOF and closes', async () => {
    const loop = newLoop();
    const size = 1_000_000;
    let server!: Server;
    const received: Buffer[] = [];
    class Summer extends Protocol {
      t!: Transport;
      override connectionMade(t: Transport): void {
        this.t = t;
      }
      override dataReceived(d: Buffer): void {
        received.push(d);
      }
      override eofReceived(): boolean {
        const all = Buffer.concat(received);
        this.t.write(Buffer.from(`got ${all.length} ${createHash('sha256').update(all).digest('hex')}`));
        this.t.close();
        return true;
      }
    }
    await loop.runUntilComplete(async () => {
      server = await loop.createServer(() => new Summer(), '127.0.0.1', 0);
    });
    const port = (server.sockets[0]!.getsockname() as [string, number])[1];
    const peer = startPeerHere(['client', String(port), String(size)]);
    let report!: { reply: string; events: string[]; sent_sha: string };
    await loop.runUntilComplete(async () => {
      report = JSON.parse(await wrapFuture(peer.nextLine(), loop)) as typeof report;
      server.close();
      await server.waitClosed();
    });
    expect(report.reply).toBe(`got ${size} ${report.sent_sha}`);
    expect(report.events).toEqual(['eof', 'lost']);
    expect(await peer.exited).toBe(0);
  });

  it('our client half-closes to a Python server, which answers after EOF and closes', async () => {
    const loop = newLoop();
    const peer = startPeerHere(['server-halfclose']);
    const port = Number(await peer.nextLine());
    const data = peerPattern(2_000_000);
    await loop.runUntilComplete(async () => {
      const [t, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);
      t.write(data);
      t.writeEof();
      await p.eof;
      expect(await p.lost).toBe(null);
      expect(p.events).toEqual(['made', 'data', 'eof', 'lost']);
      expect(p.bytes().toString()).toBe(`got ${data.length} ${createHash('sha256').update(data).digest('hex')}`);
    });
    expect(await peer.exited).toBe(0);
  });

  it('a Python server half-closes first; our client keeps writing (eofReceived true) and then half-closes', async () => {
    const loop = newLoop();
    const peer = startPeerHere(['server-eof-first']);
    const port = Number(await peer.nextLine());
    await loop.runUntilComplete(async () => {
      const [t, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);
      p.keepOpen = true;
      await p.eof;
      expect(p.bytes().toString()).toBe('hello from python');
      expect(t.isClosing()).toBe(false);
      t.write(Buffer.from('reply after your EOF'));
      t.writeEof();
      const line = await wrapFuture(peer.nextLine(), loop);
      expect(JSON.parse(line)).toEqual({ received: 'reply after your EOF' });
      // Both directions are shut; as in asyncio the transport stays open until close().
      expect(p.lost.done()).toBe(false);
      t.close();
      expect(await p.lost).toBe(null);
    });
    expect(await peer.exited).toBe(0);
  });
});
