import { describe, expect, it } from 'vitest';
import { Protocol, type Transport } from '@aioloop/core';
import { Collector, Echo, delay, newLoop, pattern, waitFor } from './support.js';

describe('flow control and scale', () => {
  it('keeps the write buffer bounded (pauseWriting) while 100 MiB pass to a slow reader', async () => {
    const loop = newLoop();
    const TOTAL = 100 * 1024 * 1024;
    const CHUNK = 64 * 1024;
    const HIGH = 256 * 1024;
    const chunk = pattern(CHUNK, 9);
    let received = 0;
    let offset = 0; // position in the repeating chunk
    let mismatches = 0;
    const verify = (d: Buffer): void => {
      for (let i = 0; i < d.length; ) {
        const n = Math.min(CHUNK - offset, d.length - i);
        if (d.compare(chunk, offset, offset + n, i, i + n) !== 0) mismatches++;
        i += n;
        offset = (offset + n) % CHUNK;
      }
    };
    class SlowReader extends Protocol {
      t!: Transport;
      private sincePause = 0;
      override connectionMade(t: Transport): void {
        this.t = t;
      }
      override dataReceived(d: Buffer): void {
        received += d.length;
        verify(d);
        this.sincePause += d.length;
        if (this.sincePause >= 4 * 1024 * 1024) {
          // Stop reading for a moment every 4 MiB: the writer must back off.
          this.sincePause = 0;
          this.t.pauseReading();
          loop.callLater(0.01, () => this.t.resumeReading());
        }
      }
    }
    class Writer extends Protocol {
      t!: Transport;
      sent = 0;
      pauses = 0;
      resumes = 0;
      paused = false;
      maxBuffer = 0;
      done = loop.createFuture<void>();
      override connectionMade(t: Transport): void {
        this.t = t;
        t.setWriteBufferLimits(HIGH);
        this.pump();
      }
      override pauseWriting(): void {
        this.pauses++;
        this.paused = true;
      }
      override resumeWriting(): void {
        this.resumes++;
        this.paused = false;
        this.pump();
      }
      pump(): void {
        while (!this.paused && this.sent < TOTAL) {
          this.t.write(chunk);
          this.sent += CHUNK;
          this.maxBuffer = Math.max(this.maxBuffer, this.t.getWriteBufferSize());
        }
        if (this.sent >= TOTAL && !this.done.done()) this.done.setResult(undefined);
      }
    }
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new SlowReader(), '127.0.0.1', 0);
      const port = (server.sockets[0]!.getsockname() as [string, number])[1];
      const [t, w] = await loop.createConnection(() => new Writer(), '127.0.0.1', port);
      await w.done;
      await waitFor(loop, () => received >= TOTAL, 15, '100 MiB received');
      expect(received).toBe(TOTAL);
      expect(w.pauses).toBeGreaterThan(0);
      // Each crossing fires once: pauses and resumes alternate.
      expect(w.pauses - w.resumes).toBeGreaterThanOrEqual(0);
      expect(w.pauses - w.resumes).toBeLessThanOrEqual(1);
      expect(w.maxBuffer).toBeLessThanOrEqual(HIGH + CHUNK);
      expect(mismatches).toBe(0);
      t.close();
      server.close();
      server.closeClients();
      await server.waitClosed();
    });
  }, 30_000);

  it('echoes on 1,000 concurrent connections without losing a byte', async () => {
    const loop = newLoop();
    const N = 1000;
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0, { backlog: 1024 });
      const port = (server.sockets[0]!.getsockname() as [string, number])[1];
      const clients = await Promise.all(
        Array.from({ length: N }, () => loop.createConnection(() => new Collector(loop), '127.0.0.1', port)),
      );
      clients.forEach(([t], i) => t.write(pattern(1000 + (i % 100), i)));
      await waitFor(loop, () => clients.every(([, p], i) => p.received() >= 1000 + (i % 100)), 15, 'all echoes');
      clients.forEach(([, p], i) => expect(p.bytes().equals(pattern(1000 + (i % 100), i))).toBe(true));
      for (const [t] of clients) t.close();
      for (const [, p] of clients) expect(await p.lost).toBe(null);
      server.close();
      await server.waitClosed(); // every server-side transport closed too
      await delay(loop, 0);
    });
  }, 30_000);
});
