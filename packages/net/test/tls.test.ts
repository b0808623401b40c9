/**
 * TLS on the connection and server methods, against peers nobody here wrote:
 * openssl s_server / s_client and Python's ssl / asyncio (/usr/bin/python3).
 * Certificates are made by the openssl CLI in a temp dir (tls-support.ts).
 */
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferedProtocol, Protocol, TimeoutError, type EventLoop, type Transport } from '@aioloop/core';
import { NotImplementedError, SslCertVerificationError, SslHandshakeTimeoutError, TlsTransport } from '../src/index.js';
import { Collector, newLoop, onCleanup, waitFor } from './support.js';
import { freePort, startPeer, testPki, type Peer } from './tls-support.js';

const PY = '/usr/bin/python3';
const PEER = path.join(__dirname, 'peers', 'tls_peer.py');
const peers: Peer[] = [];

afterEach(() => {
  for (const p of peers.splice(0)) p.kill();
});

function peer(command: string, args: string[]): Peer {
  const p = startPeer(command, args);
  peers.push(p);
  return p;
}

/** openssl s_server for one connection on a free port; resolves when it accepts. */
async function sServer(certFile: string, keyFile: string): Promise<{ port: number; server: Peer }> {
  const port = await freePort();
  const server = peer('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', certFile, '-key', keyFile, '-naccept', '1']);
  await server.waitFor('ACCEPT');
  return { port, server };
}

async function pythonServer(mode: string): Promise<{ port: number; server: Peer }> {
  const pki = testPki();
  const server = peer(PY, [PEER, 'ssl-server', pki.certFile, pki.keyFile, mode]);
  await server.waitFor(/PORT \d+/);
  return { port: Number(/PORT (\d+)/.exec(server.output())![1]), server };
}

function rejection(loop: EventLoop, task: PromiseLike<unknown>): Promise<unknown> {
  return loop.runUntilComplete(task as never).then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('TLS client (createConnection with ssl)', () => {
  it('talks to openssl s_server, shows the TLS extra info, and close() sends close_notify', async () => {
    const loop = newLoop();
    const pki = testPki();
    const { port, server } = await sServer(pki.certFile, pki.keyFile);
    const client = new Collector(loop);
    const [transport] = await loop.runUntilComplete(loop.createConnection(() => client, '127.0.0.1', port, { ssl: { ca: pki.ca } }));
    expect(transport).toBeInstanceOf(TlsTransport);
    transport.write(Buffer.from('hello from aioloop\n'));
    await server.waitFor('hello from aioloop');
    server.child.stdin!.write('hello from openssl\n');
    await loop.runUntilComplete(waitFor(loop, () => client.bytes().toString().includes('hello from openssl'), 20, 'reply'));
    const cipher = transport.getExtraInfo('cipher') as [string, string, number | null];
    expect(cipher[1]).toMatch(/^TLSv1\.[23]$/);
    expect(server.output()).toContain(`CIPHER is ${cipher[0]}`);
    expect((transport.getExtraInfo('peercert') as { subject: { CN: string } }).subject.CN).toBe('localhost');
    expect(transport.getExtraInfo('compression')).toBeNull();
    expect(transport.getExtraInfo('ssl_object')).toBe(transport.stream);
    expect(transport.getExtraInfo('sslcontext')).toBeDefined();
    expect(transport.getExtraInfo('peername')).toEqual(['127.0.0.1', port]);
    expect((transport.getExtraInfo('sockname') as [string, number])[0]).toBe('127.0.0.1');
    expect(transport.getExtraInfo('socket')).toBeInstanceOf(net.Socket);
    expect(transport.canWriteEof()).toBe(false);
    expect(() => transport.writeEof()).toThrow(NotImplementedError);
    transport.close();
    // s_server prints DONE when SSL_read returns 0: the close_notify arrived (a bare FIN is an ERROR).
    await server.waitFor('DONE');
    expect(await loop.runUntilComplete(client.lost)).toBeNull();
    expect(client.lostCount).toBe(1);
  });

  it('close_notify both ways with Python ssl: ours arrives as a clean close, theirs comes back before connectionLost', async () => {
    const loop = newLoop();
    const pki = testPki();
    const { port, server } = await pythonServer('wait-close');
    const client = new Collector(loop);
    const [transport] = await loop.runUntilComplete(loop.createConnection(() => client, '127.0.0.1', port, { ssl: { ca: pki.ca }, serverHostname: 'localhost' }));
    transport.write(Buffer.from('ping\n'));
    await loop.runUntilComplete(waitFor(loop, () => client.bytes().toString() === 'pong:ping\n', 20, 'pong'));
    transport.close();
    expect(await loop.runUntilComplete(client.lost)).toBeNull();
    await server.waitFor('UNWRAPPED');
    expect(server.output()).toContain('CLOSE_NOTIFY');
    expect(server.output()).not.toContain('RAGGED_EOF');
  });

  it("the peer's close_notify reaches eofReceived, then the transport closes and answers it", async () => {
    const loop = newLoop();
    const pki = testPki();
    const { port, server } = await pythonServer('close-first');
    const client = new Collector(loop);
    client.keepOpen = true; // no effect over TLS, as asyncio
    const [transport] = await loop.runUntilComplete(loop.createConnection(() => client, '127.0.0.1', port, { ssl: { ca: pki.ca } }));
    transport.write(Buffer.from('x\n'));
    expect(await loop.runUntilComplete(client.lost)).toBeNull();
    expect(client.events).toEqual(['made', 'data', 'eof', 'lost']);
    expect(client.bytes().toString()).toBe('pong:x\n');
    await server.waitFor('UNWRAPPED');
  });

  it('rejects a wrong host name with an error that says so', async () => {
    const loop = newLoop();
    const pki = testPki();
    const { port } = await sServer(pki.certFile, pki.keyFile);
    const error = await rejection(loop, loop.createConnection(() => new Protocol(), '127.0.0.1', port, { ssl: { ca: pki.ca }, serverHostname: 'wrong.example' }));
    expect(error).toBeInstanceOf(SslCertVerificationError);
    expect((error as SslCertVerificationError).reason).toBe('hostname');
    expect((error as Error).message).toMatch(/certificate verify failed: Hostname mismatch, certificate is not valid for 'wrong\.example'/);
  });

  it('rejects an untrusted certificate with an error that says so', async () => {
    const loop = newLoop();
    const pki = testPki();
    const { port } = await sServer(pki.untrustedCertFile, pki.untrustedKeyFile);
    const error = await rejection(loop, loop.createConnection(() => new Protocol(), '127.0.0.1', port, { ssl: { ca: pki.ca } }));
    expect(error).toBeInstanceOf(SslCertVerificationError);
    expect((error as SslCertVerificationError).reason).toBe('chain');
    expect((error as Error).message).toMatch(/certificate verify failed: unable to (get local issuer certificate|verify the first certificate)/);
  });

  it("serverHostname '' skips the name check only; rejectUnauthorized: false skips verification only when given", async () => {
    const loop = newLoop();
    const pki = testPki();
    const first = await sServer(pki.certFile, pki.keyFile);
    const [t1] = await loop.runUntilComplete(loop.createConnection(() => new Protocol(), '127.0.0.1', first.port, { ssl: { ca: pki.ca }, serverHostname: '' }));
    t1.abort();
    const second = await sServer(pki.untrustedCertFile, pki.untrustedKeyFile);
    const error = await rejection(loop, loop.createConnection(() => new Protocol(), '127.0.0.1', second.port, { ssl: { ca: pki.ca }, serverHostname: '' }));
    expect((error as SslCertVerificationError).reason).toBe('chain');
    const third = await sServer(pki.untrustedCertFile, pki.untrustedKeyFile);
    const [t3] = await loop.runUntilComplete(loop.createConnection(() => new Protocol(), '127.0.0.1', third.port, { ssl: { rejectUnauthorized: false } }));
    expect(t3).toBeInstanceOf(TlsTransport);
    t3.abort();
  });

  it('aborts a handshake the peer never answers after sslHandshakeTimeout and closes the connection', async () => {
    const loop = newLoop();
    const accepted: net.Socket[] = [];
    const closed: Promise<void>[] = [];
    const silent = net.createServer((s) => {
      accepted.push(s);
      closed.push(new Promise((r) => s.on("close", () => r())));
      s.resume();
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    onCleanup(() => silent.close());
    const port = (silent.address() as net.AddressInfo).port;
    const error = await rejection(loop, loop.createConnection(() => new Protocol(), '127.0.0.1', port, { ssl: true, sslHandshakeTimeout: 0.2 }));
    expect(error).toBeInstanceOf(SslHandshakeTimeoutError);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('SSL handshake is taking longer than 0.2 seconds: aborting the connection');
    expect(accepted).toHaveLength(1);
    await Promise.all(closed); // the peer sees the connection closed
  });

  it('TLS-only keywords without ssl are an error naming them, as asyncio', () => {
    const loop = newLoop();
    const f = () => new Protocol();
    expect(() => loop.createConnection(f, '127.0.0.1', 1, { serverHostname: 'x' })).toThrow(/createConnection\(\): serverHostname is only meaningful with ssl/);
    expect(() => loop.createConnection(f, '127.0.0.1', 1, { sslHandshakeTimeout: 1 })).toThrow(/sslHandshakeTimeout is only meaningful with ssl/);
    expect(() => loop.createServer(f, '127.0.0.1', 0, { sslShutdownTimeout: 1 })).toThrow(/createServer\(\): sslShutdownTimeout is only meaningful with ssl/);
    expect(() => loop.createUnixServer(f, '/tmp/x.sock', { sslHandshakeTimeout: 1 })).toThrow(/createUnixServer\(\): sslHandshakeTimeout/);
    expect(() => loop.createUnixConnection(f, '/tmp/x.sock', { ssl: true })).toThrow(/You must set serverHostname when using ssl without a host/);
    expect(() => loop.createConnection(f, '127.0.0.1', 1, { ssl: 'yes' as never })).toThrow(/ssl must be true, a tls\.SecureContext or secure-context options/);
    expect(() => loop.createServer(f, '127.0.0.1', 0, { ssl: true as never })).toThrow(/ssl: true has no certificate to serve/);
    expect(() => loop.createConnection(f, '127.0.0.1', 1, { ssl: true, sslHandshakeTimeout: -1 })).toThrow(/sslHandshakeTimeout must be a positive number of seconds/);
  });
});

/** Answers each line with its upper-case version; closes on "bye". */
class Upper extends Protocol {
  transport!: Transport;
  eof = false;
  lost: Error | null | undefined = undefined;
  override connectionMade(t: Transport): void {
    this.transport = t;
  }
  override dataReceived(data: Buffer): void {
    const text = data.toString();
    this.transport.write(Buffer.from(text.toUpperCase()));
    if (text.includes('bye')) this.transport.close();
  }
  override eofReceived(): boolean {
    this.eof = true;
    return false;
  }
  override connectionLost(exc: Error | null): void {
    this.lost = exc;
  }
}

describe('TLS server (createServer / createUnixServer / connectAcceptedSocket with ssl)', () => {
  it('serves openssl s_client, which verifies us; our close() reaches it as close_notify', async () => {
    const loop = newLoop();
    const pki = testPki();
    const protocols: Upper[] = [];
    const server = await loop.runUntilComplete(loop.createServer(() => (protocols.push(new Upper()), protocols.at(-1)!), '127.0.0.1', 0, { ssl: { cert: pki.cert, key: pki.key } }));
    const port = (server.sockets[0]!.getsockname() as [string, number])[1];
    const client = peer('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', pki.caFile, '-verify_return_error', '-verify_hostname', 'localhost', '-servername', 'localhost']);
    // s_client's stdout is block-buffered into a pipe: its output is read after it exits.
    client.child.stdin!.write('hello bye\n');
    // It exits when our close_notify arrives (SSL_read returns 0: "closed").
    await loop.runUntilComplete(waitFor(loop, () => client.child.exitCode !== null, 20, 's_client exit'));
    expect(client.output()).toContain('Verify return code: 0 (ok)');
    expect(client.output()).toContain('HELLO BYE');
    expect(client.output()).toMatch(/\nclosed\n/);
    await loop.runUntilComplete(waitFor(loop, () => protocols[0]?.lost === null, 20, 'connectionLost'));
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  });

  it('serves a Python asyncio client; its close_notify reaches eofReceived', async () => {
    const loop = newLoop();
    const pki = testPki();
    const protocols: Upper[] = [];
    const server = await loop.runUntilComplete(loop.createServer(() => (protocols.push(new Upper()), protocols.at(-1)!), '127.0.0.1', 0, { ssl: { cert: pki.cert, key: pki.key } }));
    const port = (server.sockets[0]!.getsockname() as [string, number])[1];
    const client = peer(PY, [PEER, 'asyncio-client', String(port), pki.caFile, 'localhost']);
    await loop.runUntilComplete(waitFor(loop, () => client.output().includes('CLOSED'), 30, 'python CLOSED'));
    expect(client.output()).toContain('REPLY PING');
    await loop.runUntilComplete(waitFor(loop, () => protocols[0]?.lost === null, 20, 'connectionLost'));
    expect(protocols[0]!.eof).toBe(true);
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  });

  it('a Python client that does not trust us fails the handshake; the server carries on', async () => {
    const loop = newLoop();
    const pki = testPki();
    const server = await loop.runUntilComplete(loop.createServer(() => new Upper(), '127.0.0.1', 0, { ssl: { cert: pki.untrustedCert, key: pki.untrustedKey } }));
    const port = (server.sockets[0]!.getsockname() as [string, number])[1];
    const client = peer(PY, [PEER, 'asyncio-client', String(port), pki.caFile, 'localhost']);
    await loop.runUntilComplete(waitFor(loop, () => client.output().includes('ERROR'), 30, 'python ERROR'));
    expect(client.output()).toMatch(/SSLCertVerificationError .*certificate verify failed/);
    expect(server.isServing()).toBe(true);
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  });

  it('connectAcceptedSocket with ssl plays the server side for a Python client', async () => {
    const loop = newLoop();
    const pki = testPki();
    const sockets: net.Socket[] = [];
    const plain = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    onCleanup(() => plain.close());
    const port = (plain.address() as net.AddressInfo).port;
    const client = peer(PY, [PEER, 'asyncio-client', String(port), pki.caFile, 'localhost']);
    await loop.runUntilComplete(waitFor(loop, () => sockets.length === 1, 20, 'accept'));
    const upper = new Upper();
    const [transport] = await loop.runUntilComplete(loop.connectAcceptedSocket(() => upper, sockets[0]!, { ssl: { cert: pki.cert, key: pki.key } }));
    expect(transport).toBeInstanceOf(TlsTransport);
    await loop.runUntilComplete(waitFor(loop, () => client.output().includes('CLOSED'), 30, 'python CLOSED'));
    expect(client.output()).toContain('REPLY PING');
    await loop.runUntilComplete(waitFor(loop, () => upper.lost === null, 20, 'connectionLost'));
  });

  it('TLS over a Unix socket (createUnixServer + createUnixConnection), BufferedProtocol on the client', async () => {
    const loop = newLoop();
    const pki = testPki();
    const sockPath = path.join(pki.dir, `u${process.pid}.sock`);
    const server = await loop.runUntilComplete(loop.createUnixServer(() => new Upper(), sockPath, { ssl: { cert: pki.cert, key: pki.key } }));
    class Buffered extends BufferedProtocol {
      buf = Buffer.alloc(3);
      got: Buffer[] = [];
      lost: Error | null | undefined = undefined;
      override getBuffer(): Buffer {
        return this.buf;
      }
      override bufferUpdated(n: number): void {
        this.got.push(Buffer.from(this.buf.subarray(0, n)));
      }
      override connectionLost(exc: Error | null): void {
        this.lost = exc;
      }
    }
    const proto = new Buffered();
    const [transport] = await loop.runUntilComplete(loop.createUnixConnection(() => proto, sockPath, { ssl: { ca: pki.ca }, serverHostname: 'localhost' }));
    expect(transport.getExtraInfo('peername')).toBe(sockPath);
    transport.write(Buffer.from('abcdefgh bye'));
    await loop.runUntilComplete(waitFor(loop, () => proto.lost === null, 20, 'server close'));
    expect(Buffer.concat(proto.got).toString()).toBe('ABCDEFGH BYE');
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  });
});
