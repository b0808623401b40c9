import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { Protocol, type Transport } from '@aioloop/core';
import { AF_INET, AF_UNIX, SOCK_STREAM, socket, socketpair, type Server } from '../src/index.js';
import { checkFdLeaks, Collector, Echo, newLoop, onCleanup } from './support.js';

beforeEach(checkFdLeaks);

const PEER = fileURLToPath(new URL('./peers/sock_peer.py', import.meta.url));

function tmpPath(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioloop-handover-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, name);
}

/** Runs the Python peer to completion or until it prints its first line. */
function python(args: string[]): { firstLine: Promise<string>; exited: Promise<number | null>; output: () => string } {
  const child = spawn('/usr/bin/python3', [PEER, ...args]);
  onCleanup(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  let resolveLine!: (line: string) => void;
  const firstLine = new Promise<string>((resolve) => (resolveLine = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const i = out.indexOf('\n');
    if (i >= 0) resolveLine(out.slice(0, i));
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { firstLine, exited, output: () => out + err };
}

class Reply extends Protocol {
  transport!: Transport;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.transport.write(Buffer.concat([Buffer.from('js:'), data]));
    this.transport.close();
  }
}

describe('sock= takes a native Socket (the transport owns it)', () => {
  it('createConnection({ sock }) with a socketpair end; the Socket is closed with the transport, close() again is harmless', async () => {
    const loop = newLoop();
    const [rsock, wsock] = socketpair();
    onCleanup(() => wsock.close());
    await loop.runUntilComplete(async () => {
      const [transport, protocol] = await loop.createConnection(() => new Collector(loop), null, null, { sock: rsock });
      wsock.sendall(Buffer.from('abc'));
      await loop.createTask(async () => {
        while (protocol.received() < 3) await new Promise((r) => setTimeout(r, 2));
      });
      expect(protocol.bytes().toString()).toBe('abc');
      transport.close();
      await protocol.lost;
      await new Promise((r) => setTimeout(r, 10));
      expect(rsock.fileno()).toBe(-1);
      rsock.close();
      expect(wsock.recv(10).length).toBe(0); // the peer sees the close
    });
  });

  it('createServer({ sock }) with a bound TCP Socket, and connectAcceptedSocket with an accepted one', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const listening = socket(AF_INET, SOCK_STREAM);
      listening.bind(['127.0.0.1', 0]);
      const server: Server = await loop.createServer(() => new Echo(), null, null, { sock: listening });
      const [, port] = server.sockets[0]!.getsockname() as [string, number];
      const [t, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);
      t.write(Buffer.from('echo me'));
      await loop.createTask(async () => {
        while (p.received() < 7) await new Promise((r) => setTimeout(r, 2));
      });
      t.close();
      server.close();
      await server.waitClosed();
      await new Promise((r) => setTimeout(r, 10));
      expect(listening.fileno()).toBe(-1);

      const acceptor = socket();
      onCleanup(() => acceptor.close());
      acceptor.bind(['127.0.0.1', 0]);
      acceptor.listen();
      const client = socket();
      onCleanup(() => client.close());
      client.connect(acceptor.getsockname());
      const [conn] = acceptor.accept();
      const [transport, protocol] = await loop.connectAcceptedSocket(() => new Collector(loop), conn);
      expect(transport.getExtraInfo('peername')).toEqual(client.getsockname());
      client.sendall(Buffer.from('hi'));
      client.close();
      await protocol.eof;
      expect(protocol.bytes().toString()).toBe('hi');
      transport.close();
      await protocol.lost;
    });
  });

  it('createUnixServer({ sock }) and createUnixConnection({ sock }) with AF_UNIX Sockets', async () => {
    const loop = newLoop();
    const file = tmpPath('s.sock');
    await loop.runUntilComplete(async () => {
      const bound = socket(AF_UNIX, SOCK_STREAM);
      bound.bind(file);
      const server = await loop.createUnixServer(() => new Reply(), null, { sock: bound });
      expect(server.sockets[0]!.getsockname()).toBe(file);
      const client = socket(AF_UNIX, SOCK_STREAM);
      client.connect(file);
      const [transport, protocol] = await loop.createUnixConnection(() => new Collector(loop), null, { sock: client });
      transport.write(Buffer.from('x'));
      await protocol.lost;
      expect(protocol.bytes().toString()).toBe('js:x');
      server.close();
      await server.waitClosed();
    });
  });

  it('rejects a datagram socket and an unconnected one with clear errors', () => {
    const loop = newLoop();
    const dgram = socket(AF_INET, 2);
    const lone = socket();
    onCleanup(() => {
      dgram.close();
      lone.close();
    });
    expect(() => loop.createConnection(() => new Protocol(), null, null, { sock: dgram })).toThrow(/A Stream Socket was expected/);
    expect(() => loop.createConnection(() => new Protocol(), null, null, { sock: lone })).toThrow(/sock is not connected/);
    expect(() => loop.createConnection(() => new Protocol(), '127.0.0.1', 1, { sock: lone })).toThrow(/host\/port and sock can not be specified at the same time/);
  });
});

describe('reusePort on this Node', () => {
  it('two servers on one port both accept connections', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const hits = [0, 0];
      const serve = (i: number) => () => {
        hits[i]!++;
        return new Echo();
      };
      const first = await loop.createServer(serve(0), '127.0.0.1', 0, { reusePort: true });
      const [, port] = first.sockets[0]!.getsockname() as [string, number];
      const second = await loop.createServer(serve(1), '127.0.0.1', port, { reusePort: true });
      // Without SO_REUSEPORT the second bind fails with EADDRINUSE.
      await expect(loop.createServer(() => new Echo(), '127.0.0.1', port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      // The kernel spreads connections by a hash of their addresses: 64 attempts all landing on one server is a 2^-63 chance.
      for (let i = 0; i < 64 && (hits[0] === 0 || hits[1] === 0); i++) {
        const [t, p] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);
        t.write(Buffer.from('x'));
        await loop.createTask(async () => {
          while (p.received() < 1) await new Promise((r) => setTimeout(r, 1));
        });
        t.close();
        await p.lost;
      }
      expect(hits[0]).toBeGreaterThan(0);
      expect(hits[1]).toBeGreaterThan(0);
      for (const s of [first, second]) s.close();
      await first.waitClosed();
      await second.waitClosed();
    });
  });
});

describe('Linux abstract Unix names keep their exact length', () => {
  it('a Python asyncio client reaches our "\\0name" server', async () => {
    const loop = newLoop();
    const name = `aioloop-abs-${process.pid}-a`;
    await loop.runUntilComplete(async () => {
      const server = await loop.createUnixServer(() => new Reply(), `\0${name}`);
      expect(server.sockets[0]!.getsockname()).toBe(`\0${name}`);
      const peer = python(['abstract-client', name]);
      expect(await peer.firstLine).toBe('js:ping');
      expect(await peer.exited).toBe(0);
      server.close();
      await server.waitClosed();
    });
  });

  it('our createUnixConnection reaches a Python asyncio "\\0name" server', async () => {
    const loop = newLoop();
    const name = `aioloop-abs-${process.pid}-b`;
    await loop.runUntilComplete(async () => {
      const peer = python(['abstract-server', name]);
      expect(await peer.firstLine).toBe('ready');
      const [transport, protocol] = await loop.createUnixConnection(() => new Collector(loop), `\0${name}`);
      expect(transport.getExtraInfo('peername')).toBe(`\0${name}`);
      transport.write(Buffer.from('ping'));
      await protocol.lost;
      expect(protocol.bytes().toString()).toBe('py:ping');
      expect(await peer.exited).toBe(0);
    });
  });
});
