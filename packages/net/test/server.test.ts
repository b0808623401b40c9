import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BufferedProtocol, CancelledError, Protocol, RuntimeError, getRunningLoop, type EventLoop, type ExceptionContext, type Transport } from '@aioloop/core';
import { AF_INET, AF_INET6, Server } from '../src/index.js';
import { Collector, Echo, collecting, delay, newLoop, onCleanup, pattern, waitFor } from './support.js';

/** Port of the first listening socket. */
function portOf(server: Server, index = 0): number {
  const name = server.sockets[index]!.getsockname() as [string, number];
  return name[1];
}

/** A raw Node client (the peer), connected. */
async function rawClient(host: string, port: number): Promise<net.Socket> {
  const sock = net.connect({ host, port, allowHalfOpen: true });
  onCleanup(() => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return sock;
}

describe('createServer and createConnection', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`echoes between our client and our server on ${host}`, async () => {
      const loop = newLoop();
      await loop.runUntilComplete(async () => {
        const server = await loop.createServer(() => new Echo(), host, 0);
        expect(server.isServing()).toBe(true);
        expect(server.getLoop()).toBe(loop);
        const port = portOf(server);
        const [transport, client] = await loop.createConnection(() => new Collector(loop), host, port);
        expect(client.events).toEqual(['made']); // createConnection returns after connectionMade
        expect((transport.getExtraInfo('peername') as unknown[])[1]).toBe(port);
        expect((transport.getExtraInfo('peername') as unknown[]).length).toBe(host === '::1' ? 4 : 2);
        expect(transport.getExtraInfo('socket')).toBeInstanceOf(net.Socket);
        const data = pattern(300_000);
        transport.write(data.subarray(0, 100_000));
        transport.writelines([data.subarray(100_000, 200_000), data.subarray(200_000)]);
        await waitFor(loop, () => client.received() >= data.length);
        expect(client.bytes().equals(data)).toBe(true);
        transport.close();
        expect(await client.lost).toBe(null);
        server.close();
        await server.waitClosed();
      });
    });
  }

  it('binds every host of a list, one socket per address, and reports them in sockets', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), ['127.0.0.1', '::1'], 0);
      const socks = server.sockets;
      expect(socks.map((s) => s.family).sort()).toEqual([AF_INET, AF_INET6].sort());
      expect(socks.every((s) => s.fileno() >= 0)).toBe(true);
      expect(String(socks[0])).toMatch(/ServerSocket/);
      for (const [i, s] of socks.entries()) {
        const host = (s.getsockname() as [string, number])[0];
        const [t, p] = await loop.createConnection(() => new Collector(loop), host, portOf(server, i));
        t.write(Buffer.from('ping'));
        await waitFor(loop, () => p.received() >= 4);
        t.close();
        await p.lost;
      }
      server.close();
      expect(server.sockets).toEqual([]);
      await server.waitClosed();
    });
  });

  it('rejects a port in use with EADDRINUSE and asyncio\'s message, leaving nothing bound', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const first = await loop.createServer(() => new Echo(), '127.0.0.1', 0);
      const port = portOf(first);
      const error = await loop.createServer(() => new Echo(), '127.0.0.1', port).then(
        () => null,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(error?.code).toBe('EADDRINUSE');
      expect(error?.message).toMatch(/^error while attempting to bind on address \('127\.0\.0\.1', \d+\): address already in use$/);
      first.close();
      await first.waitClosed();
    });
  });

  it('checks its arguments with clear errors', () => {
    const loop = newLoop();
    const f = (): Protocol => new Protocol();
    expect(() => loop.createServer('nope' as never, '127.0.0.1', 0)).toThrow(/protocolFactory must be a function/);
    expect(() => loop.createServer(f, '127.0.0.1', 0, { backlog: -1 })).toThrow(/backlog/);
    expect(() => loop.createServer(f, '127.0.0.1', 0, { ssl: {} })).toThrow(/ssl options for a server need a certificate/);
    expect(() => loop.createServer(f, '127.0.0.1', 0, { reuseAddress: false })).toThrow(/always sets SO_REUSEADDR/);
    expect(() => loop.createServer(f, null, null)).toThrow(/Neither host\/port nor sock/);
    expect(() => loop.createServer(f, '127.0.0.1', 0, { sock: new net.Server() })).toThrow(/can not be specified at the same time/);
    expect(() => loop.createServer(f, 42 as never, 0)).toThrow(/host must be/);
    expect(() => loop.createConnection(f, '127.0.0.1', 1, { ssl: 42 as never })).toThrow(/ssl must be true, a tls\.SecureContext or secure-context options/);
    expect(() => loop.createConnection(f, '127.0.0.1', 1, { serverHostname: 'x' })).toThrow(/only meaningful with ssl/);
  });

  it('accepts reuseAddress: true (the Node default on Unix)', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0, { reuseAddress: true, backlog: 5, keepAlive: true });
      expect(server.isServing()).toBe(true);
      server.close();
      await server.waitClosed();
    });
  });

  it('serves an existing listening net.Server given as sock', async () => {
    const loop = newLoop();
    const raw = net.createServer();
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    onCleanup(() => raw.close());
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), null, null, { sock: raw });
      const port = (raw.address() as net.AddressInfo).port;
      expect(portOf(server)).toBe(port);
      const [t, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);
      t.write(Buffer.from('via sock'));
      await waitFor(loop, () => p.received() >= 8);
      t.close();
      await p.lost;
      server.close();
      await server.waitClosed();
      expect(raw.listening).toBe(false);
    });
  });
});

describe('Server lifecycle', () => {
  it('close() stops listening while accepted connections stay open; waitClosed() waits for them', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const { factory, made: serverSide } = collecting(loop);
      const server = await loop.createServer(factory, '127.0.0.1', 0);
      const port = portOf(server);
      const early = server.waitClosed(); // before close(): waits for close AND the connections
      const [t, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);
      await waitFor(loop, () => serverSide.length === 1 && serverSide[0]!.events.includes('made'));
      server.close();
      server.close(); // idempotent
      expect(server.isServing()).toBe(false);
      const late = server.waitClosed();
      await delay(loop, 0.05);
      expect(early.done()).toBe(false);
      expect(late.done()).toBe(false);
      // A new connection is refused...
      const refused = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port).then(
        () => null,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(refused?.code).toBe('ECONNREFUSED');
      // ...while the accepted one still works both ways.
      t.write(Buffer.from('still here'));
      await waitFor(loop, () => serverSide[0]!.received() >= 10);
      serverSide[0]!.transport.write(Buffer.from('yes'));
      await waitFor(loop, () => p.received() >= 3);
      t.close();
      await serverSide[0]!.lost;
      await early;
      await late;
      // Once reached, waitClosed() resolves at once.
      const again = server.waitClosed();
      await delay(loop, 0);
      expect(again.done()).toBe(true);
    });
  });

  it('closeClients() closes and abortClients() aborts every accepted connection', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const { factory, made: serverSide } = collecting(loop);
      const server = await loop.createServer(factory, '127.0.0.1', 0);
      const port = portOf(server);
      const clients = [];
      for (let i = 0; i < 3; i++) clients.push(await loop.createConnection(() => new Collector(loop), '127.0.0.1', port));
      await waitFor(loop, () => serverSide.length === 3 && serverSide.every((p) => p.events.includes('made')));
      server.close();
      server.closeClients();
      for (const p of serverSide) expect(await p.lost).toBe(null);
      for (const [, p] of clients) await p.lost; // the peers see EOF and close
      await server.waitClosed();

      const server2 = await loop.createServer(factory, '127.0.0.1', 0);
      const [t] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', portOf(server2));
      await waitFor(loop, () => serverSide.length === 4 && serverSide[3]!.events.includes('made'));
      server2.abortClients();
      expect(await serverSide[3]!.lost).toBe(null);
      server2.close();
      await server2.waitClosed();
      t.close();
    });
  });

  it('startServing: false binds and listens but runs no protocol until startServing()', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const made: Collector[] = [];
      const server = await loop.createServer(() => {
        const p = new Collector(loop);
        made.push(p);
        return p;
      }, '127.0.0.1', 0, { startServing: false });
      expect(server.isServing()).toBe(false);
      const peer = await rawClient('127.0.0.1', portOf(server));
      peer.write('queued');
      await delay(loop, 0.1);
      expect(made).toHaveLength(0);
      await server.startServing();
      expect(server.isServing()).toBe(true);
      await waitFor(loop, () => made.length === 1 && made[0]!.received() >= 6);
      expect(made[0]!.bytes().toString()).toBe('queued');
      made[0]!.transport.close();
      await made[0]!.lost;
      server.close();
      await server.waitClosed();
    });
  });

  it('close() before startServing resets the held connections', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      let factoryCalls = 0;
      const server = await loop.createServer(() => {
        factoryCalls++;
        return new Protocol();
      }, '127.0.0.1', 0, { startServing: false });
      const peer = await rawClient('127.0.0.1', portOf(server));
      const reset = new Promise<NodeJS.ErrnoException>((r) => peer.once('error', r));
      await delay(loop, 0.05);
      server.close();
      await server.waitClosed();
      peer.resume();
      expect((await reset).code).toBe('ECONNRESET');
      expect(factoryCalls).toBe(0);
    });
  });

  it('serveForever() serves until cancelled, then closes the server; a second call throws', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0, { startServing: false });
      const forever = server.serveForever();
      expect(server.isServing()).toBe(true);
      expect(() => server.serveForever()).toThrow(RuntimeError);
      const [t, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', portOf(server));
      t.write(Buffer.from('abc'));
      await waitFor(loop, () => p.received() >= 3);
      t.close();
      await p.lost;
      forever.cancel();
      await expect(forever).rejects.toBeInstanceOf(CancelledError);
      expect(server.sockets).toEqual([]);
      expect(() => server.serveForever()).toThrow(/is closed/);
    });
  });

  it('[Symbol.asyncDispose] closes the server and waits for it', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0);
      await server[Symbol.asyncDispose]();
      expect(server.isServing()).toBe(false);
      expect(server.sockets).toEqual([]);
    });
  });
});

describe('stream transport behaviour over real connections', () => {
  it('half-closes in both directions: eofReceived() returning true keeps writing possible', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      class Answer extends Protocol {
        t!: Transport;
        got = '';
        override connectionMade(t: Transport): void {
          this.t = t;
        }
        override dataReceived(d: Buffer): void {
          this.got += d.toString();
        }
        override eofReceived(): boolean {
          this.t.write(Buffer.from(`answer to ${this.got}`));
          this.t.writeEof();
          return true;
        }
      }
      const server = await loop.createServer(() => new Answer(), '127.0.0.1', 0);
      const [t, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', portOf(server));
      p.keepOpen = true;
      t.write(Buffer.from('question'));
      t.writeEof();
      expect(() => t.write(Buffer.from('more'))).toThrow(/after writeEof/);
      await p.eof;
      expect(p.bytes().toString()).toBe('answer to question');
      expect(t.isClosing()).toBe(false);
      t.close();
      expect(await p.lost).toBe(null);
      server.close();
      // Both directions ended, but as in asyncio the server's transport stays
      // open (eofReceived returned true) until it is closed.
      await delay(loop, 0.05);
      expect(server.waitClosed().done()).toBe(false);
      server.closeClients();
      await server.waitClosed();
    });
  });

  it('setProtocol() mid-stream sends later bytes to the new protocol', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0);
      const [t, first] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', portOf(server));
      t.write(Buffer.from('one'));
      await waitFor(loop, () => first.received() >= 3);
      const second = new Collector(loop);
      t.setProtocol(second);
      t.write(Buffer.from('two'));
      await waitFor(loop, () => second.received() >= 3);
      expect(first.bytes().toString()).toBe('one');
      expect(second.bytes().toString()).toBe('two');
      t.close();
      await second.lost;
      expect(first.lostCount).toBe(0);
      server.close();
      await server.waitClosed();
    });
  });

  it('reports an exception in a server protocol callback, closes that transport, and keeps serving', async () => {
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    const boom = new Error('boom in dataReceived');
    await loop.runUntilComplete(async () => {
      const lost: (Error | null)[] = [];
      class Fragile extends Protocol {
        private transport: Transport | null = null;
        override connectionMade(t: Transport): void {
          this.transport = t;
        }
        override dataReceived(d: Buffer): void {
          if (d.includes('bad')) throw boom;
          this.transport!.write(Buffer.concat([Buffer.from('ok:'), d]));
        }
        override connectionLost(exc: Error | null): void {
          lost.push(exc);
        }
      }
      const server = await loop.createServer(() => new Fragile(), '127.0.0.1', 0);
      const port = portOf(server);
      const [t1, p1] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);
      t1.write(Buffer.from('bad'));
      await p1.lost; // the server side closed it
      expect(lost).toEqual([boom]);
      expect(contexts).toHaveLength(1);
      expect(contexts[0]!.exception).toBe(boom);
      expect(contexts[0]!.protocol).toBeInstanceOf(Fragile);
      const failed = contexts[0]!.transport as Transport;
      expect(failed.isClosing()).toBe(true);
      expect(failed.getExtraInfo('peername')).toEqual(['127.0.0.1', (t1.getExtraInfo('sockname') as [string, number])[1]]);
      // The server still accepts, and a new connection's protocol answers (a connect
      // alone would succeed in the kernel backlog even if nothing accepted it).
      const [t2, p2] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);
      t2.write(Buffer.from('good'));
      await waitFor(loop, () => p2.bytes().toString() === 'ok:good');
      expect(p2.events).toEqual(['made', 'data']);
      t2.close();
      await p2.lost;
      server.close();
      await server.waitClosed();
    });
  });

  it('reports a protocol factory that throws and closes the accepted socket', async () => {
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    await loop.runUntilComplete(async () => {
      const err = new Error('no protocol for you');
      const server = await loop.createServer(() => {
        throw err;
      }, '127.0.0.1', 0);
      const [, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', portOf(server));
      await p.lost;
      expect(contexts[0]!.message).toBe('Error on transport creation for incoming connection');
      expect(contexts[0]!.exception).toBe(err);
      server.close();
      await server.waitClosed();
    });
  });

  it('reports a connectionMade that throws on an accepted connection as a failed accept; that protocol gets connectionLost(exc)', async () => {
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    const err = new Error('not today');
    const events: string[] = [];
    class Refuser extends Protocol {
      override connectionMade(): void {
        events.push('made');
        throw err;
      }
      override connectionLost(exc: Error | null): void {
        events.push(`lost:${exc === err ? 'err' : String(exc)}`);
      }
    }
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Refuser(), '127.0.0.1', 0);
      const [, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', portOf(server));
      await p.lost; // the server side closed it
      await waitFor(loop, () => events.length === 2);
      expect(events).toEqual(['made', 'lost:err']);
      expect(contexts).toHaveLength(1);
      expect(contexts[0]!.message).toBe('Error on transport creation for incoming connection');
      expect(contexts[0]!.exception).toBe(err);
      expect(contexts[0]!.protocol).toBeInstanceOf(Refuser);
      expect(contexts[0]!.transport).toBeDefined();
      server.close();
      await server.waitClosed(); // the failed connection was detached
    });
  });

  it('gives connectionLost(err) with ECONNRESET or EPIPE when the peer resets mid-write', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const { factory, made: serverSide } = collecting(loop);
      const server = await loop.createServer(factory, '127.0.0.1', 0);
      const peer = await rawClient('127.0.0.1', portOf(server));
      peer.on('error', () => {});
      await waitFor(loop, () => serverSide.length === 1 && serverSide[0]!.events.includes('made'));
      const p = serverSide[0]!;
      const chunk = pattern(256 * 1024);
      let writes = 0;
      // Keep writing while the peer resets the connection.
      loop.callLater(0.02, () => peer.resetAndDestroy());
      while (!p.lost.done() && writes < 2000) {
        p.transport.write(chunk);
        writes++;
        await delay(loop, 0.002);
      }
      const exc = (await p.lost) as NodeJS.ErrnoException;
      expect(exc).toBeInstanceOf(Error);
      expect(['ECONNRESET', 'EPIPE']).toContain(exc.code);
      p.transport.write(chunk); // dropped, no throw
      expect(p.lostCount).toBe(1);
      server.close();
      await server.waitClosed();
    });
  });

  it('runs protocol callbacks with the loop as running loop', async () => {
    const loop = newLoop();
    const seen: (EventLoop | string)[] = [];
    await loop.runUntilComplete(async () => {
      class Check extends Protocol {
        override connectionMade(): void {
          seen.push(getRunningLoop());
        }
        override dataReceived(): void {
          seen.push(getRunningLoop());
        }
      }
      const server = await loop.createServer(() => new Check(), '127.0.0.1', 0);
      const [t] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', portOf(server));
      t.write(Buffer.from('x'));
      await waitFor(loop, () => seen.length >= 2);
      t.close();
      server.close();
      server.closeClients();
      await server.waitClosed();
    });
    expect(seen).toEqual([loop, loop]);
  });

  it('reads straight into a zeroCopyReads BufferedProtocol buffer (zero-copy onread) on the client and on the server', async () => {
    const loop = newLoop();
    class Sink extends BufferedProtocol {
      override readonly zeroCopyReads = true;
      buf = new Uint8Array(8192);
      parts: Buffer[] = [];
      hints = new Set<number>();
      total = 0;
      t!: Transport;
      override connectionMade(t: Transport): void {
        this.t = t;
      }
      getBuffer(sizeHint: number): Uint8Array {
        // -1: Node asks for the buffer of its next read (no copy); else the transport copies a chunk of that size.
        this.hints.add(sizeHint);
        return this.buf;
      }
      bufferUpdated(n: number): void {
        this.parts.push(Buffer.from(this.buf.subarray(0, n)));
        this.total += n;
      }
    }
    const data = pattern(500_000, 3);
    await loop.runUntilComplete(async () => {
      const sinks: Sink[] = [];
      const server = await loop.createServer(() => {
        const s = new Sink();
        sinks.push(s);
        return s;
      }, '127.0.0.1', 0);
      const [t, client] = await loop.createConnection(() => new Sink(), '127.0.0.1', portOf(server));
      t.write(data);
      await waitFor(loop, () => sinks.length === 1 && sinks[0]!.total >= data.length);
      sinks[0]!.t.write(data);
      await waitFor(loop, () => client.total >= data.length);
      expect(Buffer.concat(sinks[0]!.parts).equals(data)).toBe(true);
      expect(Buffer.concat(client.parts).equals(data)).toBe(true);
      expect(sinks[0]!.hints.has(-1)).toBe(true);
      expect(client.hints.has(-1)).toBe(true);
      t.close();
      server.close();
      server.closeClients();
      await server.waitClosed();
    });
  });

  it('a BufferedProtocol echo that shares one buffer between connections and writes views of it back returns every byte intact, also to a slow reader', async () => {
    // The pattern the net README describes (and bench/echo uses): write a view
    // of the received bytes; reuse the region only if the write went out at
    // once. Safe because getBuffer(-1) is asked just before each read's bytes
    // are put in (asyncio's order) unless the protocol opts in to zeroCopyReads.
    const loop = newLoop();
    const SLAB = 256 * 1024;
    const MIN_READ = 64 * 1024;
    let slab = Buffer.allocUnsafe(SLAB);
    let used = 0;
    let reused = 0;
    let keptForPendingWrite = 0;
    class SharedBufferEcho extends BufferedProtocol {
      t!: Transport;
      override connectionMade(t: Transport): void {
        this.t = t;
      }
      getBuffer(): Uint8Array {
        if (SLAB - used < MIN_READ) {
          slab = Buffer.allocUnsafe(SLAB);
          used = 0;
        }
        return slab.subarray(used);
      }
      bufferUpdated(n: number): void {
        this.t.write(slab.subarray(used, used + n));
        if (this.t.getWriteBufferSize() > 0) {
          used += n;
          keptForPendingWrite++;
        } else reused++;
      }
    }
    const payloads = [Buffer.alloc(0), randomBytes(3 * 1024 * 1024), randomBytes(300_000)];
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new SharedBufferEcho(), '127.0.0.1', 0);
      const clients = await Promise.all(payloads.map(() => rawClient('127.0.0.1', portOf(server))));
      const echoed = clients.map((sock) => {
        const parts: Buffer[] = [];
        sock.on('data', (d: Buffer) => parts.push(d));
        return parts;
      });
      // The first client reads nothing for a while and sends until the server's writes
      // to it pile up: how much that takes depends on the host's socket buffers.
      clients[0]!.pause();
      clients.slice(1).forEach((sock, i) => sock.write(payloads[i + 1]!));
      const sent: Buffer[] = [];
      while (keptForPendingWrite === 0) {
        if (sent.length >= 256) throw new Error('no write was left pending after 256 MiB to a reader that reads nothing');
        const chunk = randomBytes(1024 * 1024);
        sent.push(chunk);
        if (!clients[0]!.write(chunk)) await waitFor(loop, () => keptForPendingWrite > 0 || clients[0]!.writableLength === 0, 20, 'the client to send');
      }
      payloads[0] = Buffer.concat(sent);
      clients[0]!.resume();
      const total = (i: number) => echoed[i]!.reduce((sum, b) => sum + b.length, 0);
      await waitFor(loop, () => payloads.every((p, i) => total(i) >= p.length), 20, 'every echo');
      payloads.forEach((p, i) => expect(Buffer.concat(echoed[i]!).equals(p)).toBe(true));
      expect(reused).toBeGreaterThan(0);
      server.close();
      server.closeClients();
      await server.waitClosed();
    });
  });

  it('connectAcceptedSocket() wraps a socket accepted by a plain Node server', async () => {
    const loop = newLoop();
    const raw = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    onCleanup(() => raw.close());
    const accepted = new Promise<net.Socket>((r) => raw.once('connection', r));
    const peer = await rawClient('127.0.0.1', (raw.address() as net.AddressInfo).port);
    const sock = await accepted;
    peer.write('hi there');
    await loop.runUntilComplete(async () => {
      expect(() => loop.connectAcceptedSocket(() => new Protocol(), {} as never)).toThrow(/net\.Socket/);
      const [t, p] = await loop.connectAcceptedSocket(() => new Collector(loop), sock);
      await waitFor(loop, () => p.received() >= 8);
      expect(p.bytes().toString()).toBe('hi there');
      expect(t.getExtraInfo('socket')).toBe(sock);
      t.close();
      await p.lost;
    });
  });

  it('createConnection({ sock }) wraps a connected socket', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0);
      const sock = await rawClient('127.0.0.1', portOf(server));
      const [t, p] = await loop.createConnection(() => new Collector(loop), null, null, { sock });
      t.write(Buffer.from('echo me'));
      await waitFor(loop, () => p.received() >= 7);
      expect(p.bytes().toString()).toBe('echo me');
      t.close();
      await p.lost;
      server.close();
      await server.waitClosed();
    });
  });
});
