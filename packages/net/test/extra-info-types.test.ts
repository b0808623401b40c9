import net from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type tls from 'node:tls';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type DatagramTransport,
  type ReadPipeTransport,
  type SubprocessTransport,
  type TlsTransport,
  type Transport,
  type TransportAddress,
  type TransportSocket,
} from '@aioloop/core';
import { Socket, type SockAddr } from '../src/index.js';
import { Collector, collecting, newLoop, onCleanup, tempDir, waitFor } from './support.js';

// Issue 11, item 7: getExtraInfo() is typed per key, and a server's socket
// addresses are typed by what it can be bound to. The expectTypeOf lines are
// checked by the package's typecheck (tsc over test/); the expect lines check
// that the values at run time are what the types say.

/** A Node server listening on a new Unix socket path, closed after the test. */
async function listeningUnixServer(): Promise<{ listening: net.Server; sockPath: string }> {
  const sockPath = path.join(tempDir(), 'served.sock');
  const listening = net.createServer();
  await new Promise<void>((resolve) => listening.listen(sockPath, resolve));
  onCleanup(() => listening.close());
  return { listening, sockPath };
}

describe('getExtraInfo() is typed per key', () => {
  it('peername, sockname and socket of a TCP transport need no cast and hold what their types say', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const { factory, made } = collecting(loop);
      const server = await loop.createServer(factory, '127.0.0.1', 0);
      const port = server.sockets[0]!.getsockname()[1];
      expectTypeOf(port).toEqualTypeOf<number>();
      const [t] = await loop.createConnection(() => new Collector(loop), '127.0.0.1', port);

      const peername = t.getExtraInfo('peername');
      expectTypeOf(peername).toEqualTypeOf<TransportAddress | null | undefined>();
      expect(peername).toEqual(['127.0.0.1', port]);
      // The user's narrowing is a type guard, not a cast.
      if (!Array.isArray(peername)) throw new Error('a TCP peername is a tuple');
      expectTypeOf(peername[1]).toEqualTypeOf<number>();

      const sockname = t.getExtraInfo('sockname');
      expectTypeOf(sockname).toEqualTypeOf<TransportAddress | undefined>();
      expect(sockname).toEqual(['127.0.0.1', expect.any(Number)]);

      const socket = t.getExtraInfo('socket');
      expectTypeOf(socket).toEqualTypeOf<TransportSocket | undefined>();
      // @aioloop/net adds its native Socket to the socket types.
      expectTypeOf<Socket>().toExtend<TransportSocket>();
      expectTypeOf<net.Socket>().toExtend<TransportSocket>();
      expect(socket).toBeInstanceOf(net.Socket);

      // A default joins the key's type; a key the transport lacks gives it.
      const withDefault = t.getExtraInfo('subprocess', 'none' as const);
      expectTypeOf(withDefault).toEqualTypeOf<ChildProcess | 'none'>();
      expect(withDefault).toBe('none');
      // Keys outside asyncio's list: unknown unless the caller states the type.
      expectTypeOf(t.getExtraInfo('no-such-key')).toEqualTypeOf<unknown>();
      expectTypeOf(t.getExtraInfo<number>('no-such-key')).toEqualTypeOf<number | undefined>();
      expect(t.getExtraInfo('no-such-key', 7)).toBe(7);
      // The earlier form, stating the type of a known key, still compiles.
      expectTypeOf(t.getExtraInfo<[string, number]>('peername')).toEqualTypeOf<[string, number] | undefined>();
      // @ts-expect-error a peername is not a number
      const wrong: number = t.getExtraInfo('peername');
      expect(wrong).not.toBe(0);

      await waitFor(loop, () => made.length === 1);
      t.close();
      server.close();
      await server.waitClosed();
    });
  });

  it('types the TLS, pipe, subprocess and datagram keys through the Transport interfaces', () => {
    // Type-level only: these transports' values are checked by tls.test.ts,
    // pipes.test.ts, datagram.test.ts and @aioloop/subprocess's tests.
    function keys(tlsT: TlsTransport, pipe: ReadPipeTransport, proc: SubprocessTransport, dgram: DatagramTransport, any: Transport): void {
      expectTypeOf(tlsT.getExtraInfo('sslcontext')).toEqualTypeOf<tls.SecureContext | undefined>();
      expectTypeOf(tlsT.getExtraInfo('peercert')).toEqualTypeOf<tls.PeerCertificate | null | undefined>();
      expectTypeOf(tlsT.getExtraInfo('cipher')).toEqualTypeOf<[name: string, version: string, bits: number | null] | undefined>();
      expectTypeOf(tlsT.getExtraInfo('compression')).toEqualTypeOf<null | undefined>();
      expectTypeOf(tlsT.getExtraInfo('ssl_object')).toEqualTypeOf<tls.TLSSocket | undefined>();
      expectTypeOf(pipe.getExtraInfo('pipe')).toEqualTypeOf<Readable | Writable | undefined>();
      expectTypeOf(proc.getExtraInfo('subprocess')).toEqualTypeOf<ChildProcess | undefined>();
      expectTypeOf(dgram.getExtraInfo('peername')).toEqualTypeOf<TransportAddress | null | undefined>();
      expectTypeOf(any.getExtraInfo('sockname', null)).toEqualTypeOf<TransportAddress | null>();
    }
    expect(typeof keys).toBe('function');
  });
});

describe("a server's socket addresses are typed by what it can be bound to", () => {
  it('createServer(host, port) gives SockAddr; createServer({ sock }) may be a Unix socket, and is typed so', async () => {
    const loop = newLoop();
    const { listening, sockPath } = await listeningUnixServer();
    await loop.runUntilComplete(async () => {
      const tcp = await loop.createServer(() => new Collector(loop), '127.0.0.1', 0);
      expectTypeOf(tcp.sockets[0]!.getsockname()).toEqualTypeOf<SockAddr>();
      expect(tcp.sockets[0]!.getsockname()).toEqual(['127.0.0.1', expect.any(Number)]);

      const fromSock = await loop.createServer(() => new Collector(loop), null, null, { sock: listening });
      const name = fromSock.sockets[0]!.getsockname();
      expectTypeOf(name).toEqualTypeOf<SockAddr | string>();
      // Without the sock overload this was typed SockAddr, and name[1] a number.
      expect(name).toBe(sockPath);
      tcp.close();
      fromSock.close();
      await tcp.waitClosed();
      await fromSock.waitClosed();
    });
  });

  it('createUnixServer({ sock }) is typed string and takes only what it accepts', async () => {
    const loop = newLoop();
    const { listening, sockPath } = await listeningUnixServer();
    await loop.runUntilComplete(async () => {
      const server = await loop.createUnixServer(() => new Collector(loop), null, { sock: listening });
      expectTypeOf(server.sockets[0]!.getsockname()).toEqualTypeOf<string>();
      expect(server.sockets[0]!.getsockname()).toBe(sockPath);
      server.close();
      await server.waitClosed();
      // @ts-expect-error a file descriptor is refused (it could be a TCP socket)
      expect(() => loop.createUnixServer(() => new Collector(loop), null, { sock: 3 })).toThrow(TypeError);
    });
  });
});
