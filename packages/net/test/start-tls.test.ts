/**
 * startTls against Python asyncio peers using loop.start_tls: the plain
 * greeting, then the upgrade, with the peer's first TLS bytes right behind
 * its last plain line.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferedProtocol, Protocol, RuntimeError, type BaseTransport, type EventLoop, type StreamTransport, type Transport } from '@aioloop/core';
import { TlsTransport } from '../src/index.js';
import { newLoop, waitFor } from './support.js';
import { startPeer, testPki, type Peer } from './tls-support.js';

const PY = '/usr/bin/python3';
const PEER = path.join(__dirname, 'peers', 'tls_peer.py');
const peers: Peer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.kill();
});

/**
 * Server side of a line protocol: reads one byte at a time until "STARTTLS\n"
 * and upgrades from inside bufferUpdated, so whatever followed that line in
 * the same read stays with the transport. Then answers "tls:<line>".
 */
class StartTlsServer extends BufferedProtocol {
  plain!: StreamTransport;
  secure: TlsTransport | null = null;
  private readonly byte = Buffer.alloc(1);
  private readonly big = Buffer.alloc(4096);
  line = '';
  tlsLines: string[] = [];
  events: string[] = [];
  lost: Error | null | undefined = undefined;
  upgrade: Promise<TlsTransport> | null = null;
  heldAtUpgrade = 0;

  constructor(
    private readonly loop: EventLoop,
    private readonly ssl: { cert: string; key: string },
  ) {
    super();
  }
  override connectionMade(t: BaseTransport): void {
    this.events.push('made');
    this.plain = t as StreamTransport;
  }
  override getBuffer(): Buffer {
    return this.secure === null ? this.byte : this.big;
  }
  override bufferUpdated(n: number): void {
    const text = (this.secure === null ? this.byte : this.big).subarray(0, n).toString('latin1');
    if (this.secure === null) {
      this.line += text;
      if (this.line === 'STARTTLS\n') {
        this.events.push('upgrade');
        // One byte at a time: whatever followed the line stays with the transport (measured once this read is done).
        queueMicrotask(() => (this.heldAtUpgrade = (this.plain as unknown as { _pendingChunks: readonly Buffer[] })._pendingChunks.reduce((n, c) => n + c.length, 0)));
        this.upgrade = this.loop.startTls(this.plain, this, { cert: this.ssl.cert, key: this.ssl.key }, { serverSide: true }).then((t) => (this.secure = t));
      }
      return;
    }
    this.tlsLines.push(text);
    this.secure.write(Buffer.from(`tls:${text}`));
  }
  override eofReceived(): boolean {
    this.events.push('eof');
    return false;
  }
  override connectionLost(exc: Error | null): void {
    this.events.push('lost');
    this.lost = exc;
  }
}

describe('startTls', () => {
  it.each([
    ['a Python asyncio client (start_tls) sends STARTTLS and its ClientHello right behind it', 'starttls-client'],
    ['STARTTLS and the ClientHello arrive in one read (Python ssl.MemoryBIO, one send)', 'starttls-glued'],
  ])('server side: %s', async (_title, mode) => {
    const loop = newLoop();
    const pki = testPki();
    const protocols: StartTlsServer[] = [];
    const server = await loop.runUntilComplete(
      loop.createServer(() => (protocols.push(new StartTlsServer(loop, pki)), protocols.at(-1)!), '127.0.0.1', 0),
    );
    const port = (server.sockets[0]!.getsockname() as [string, number])[1];
    const client = startPeer(PY, [PEER, mode, String(port), pki.caFile]);
    peers.push(client);
    await loop.runUntilComplete(waitFor(loop, () => client.output().includes('CLOSED') || client.child.exitCode !== null, 30, 'python CLOSED'));
    expect(client.output()).toContain('UPGRADED');
    if (mode === 'starttls-glued') expect(protocols[0]!.heldAtUpgrade).toBeGreaterThan(0);
    expect(client.output()).toContain('REPLY tls:secret');
    const p = protocols[0]!;
    await loop.runUntilComplete(waitFor(loop, () => p.lost !== undefined, 20, 'connectionLost'));
    expect(p.lost).toBeNull();
    // connectionMade ran once, on the plain transport (asyncio's start_tls does not call it again).
    expect(p.events).toEqual(['made', 'upgrade', 'eof', 'lost']);
    expect(p.secure).toBeInstanceOf(TlsTransport);
    expect(p.secure!.getExtraInfo('peername')).toEqual(p.plain.getExtraInfo('peername'));
    // The plain transport is retired.
    expect(() => p.plain.write(Buffer.from('x'))).toThrow(RuntimeError);
    expect(() => p.plain.write(Buffer.from('x'))).toThrow(/upgraded by startTls\(\)/);
    expect(() => p.plain.close()).toThrow(/upgraded by startTls\(\)/);
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  });

  it('client side: greeting, STARTTLS, then the upgrade against a Python asyncio server using start_tls', async () => {
    const loop = newLoop();
    const pki = testPki();
    const py = startPeer(PY, [PEER, 'starttls-server', pki.certFile, pki.keyFile]);
    peers.push(py);
    await loop.runUntilComplete(waitFor(loop, () => /PORT \d+/.test(py.output()), 20, 'python PORT'));
    const port = Number(/PORT (\d+)/.exec(py.output())![1]);

    class Client extends Protocol {
      plain!: StreamTransport;
      secure: TlsTransport | null = null;
      received = '';
      lost: Error | null | undefined = undefined;
      made = 0;
      override connectionMade(t: Transport): void {
        this.made++;
        this.plain = t as StreamTransport;
      }
      override dataReceived(data: Buffer): void {
        this.received += data.toString();
        if (this.received === '220 ready\n') this.plain.write(Buffer.from('STARTTLS\n'));
        if (this.received === '220 ready\nGO\n') {
          void loop.startTls(this.plain, this, { ca: pki.ca }, { serverHostname: 'localhost' }).then((t) => {
            this.secure = t;
            t.write(Buffer.from('hello\n'));
          });
        }
        if (this.received.endsWith('tls:hello\n')) this.secure!.close();
      }
      override connectionLost(exc: Error | null): void {
        this.lost = exc;
      }
    }
    const c = new Client();
    await loop.runUntilComplete(loop.createConnection(() => c, '127.0.0.1', port));
    await loop.runUntilComplete(waitFor(loop, () => c.lost !== undefined, 30, 'connectionLost'));
    expect(c.lost).toBeNull();
    expect(c.made).toBe(1);
    expect(c.received).toBe('220 ready\nGO\ntls:hello\n');
    expect(c.secure!.getExtraInfo('cipher')).toBeDefined();
    await loop.runUntilComplete(waitFor(loop, () => py.output().includes('CLOSED'), 20, 'python CLOSED'));
    expect(py.output()).toContain('GOT hello');
  });

  it('checks its arguments', () => {
    const loop = newLoop();
    expect(() => loop.startTls({} as never, new Protocol(), true, { serverHostname: 'x' })).toThrow(/startTls\(\): transport .* is not supported by startTls\(\)/);
  });
});
