/**
 * Names resolve through the loop instance's getaddrinfo (asyncio's
 * _ensure_resolved): replacing loop.getaddrinfo on one loop changes what
 * createConnection/createServer connect to or bind; IP literals skip it.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Protocol, type BaseTransport, type EventLoop } from '@aioloop/core';
import { MultipleConnectErrors } from '../src/connect.js';
import { AF_INET, AF_INET6, IPPROTO_TCP, SOCK_STREAM, type AddrInfo, type GetaddrinfoOptions, type PortLike } from '../src/dns.js';
import { newLoop, onCleanup } from './support.js';

type Resolver = (host: string | null | undefined, port: PortLike, options?: GetaddrinfoOptions) => Promise<AddrInfo[]>;

/** Replaces getaddrinfo on this loop only; returns the calls it saw. */
function mapNames(loop: EventLoop, table: Record<string, AddrInfo[]>): [host: string | null | undefined, port: PortLike][] {
  const calls: [string | null | undefined, PortLike][] = [];
  const resolver: Resolver = async (host, port) => {
    calls.push([host, port]);
    const found = table[String(host)];
    if (found === undefined) throw Object.assign(new Error(`[Errno -2] Name or service not known: ${String(host)}`), { code: 'ENOTFOUND' });
    return found;
  };
  (loop as unknown as { getaddrinfo: Resolver }).getaddrinfo = resolver;
  return calls;
}

/** Closes the transport and runs the loop until its protocol's connectionLost ran (the socket is closed then). */
async function closeAndWait(loop: EventLoop, transport: BaseTransport): Promise<void> {
  const protocol = transport.getProtocol() as Protocol;
  const lost = loop.createFuture<void>();
  const original = protocol.connectionLost.bind(protocol);
  protocol.connectionLost = (exc) => {
    original(exc);
    lost.setResult(undefined);
  };
  transport.close();
  await loop.runUntilComplete(lost);
}

function v4(port: number): AddrInfo {
  return [AF_INET, SOCK_STREAM, IPPROTO_TCP, '', ['127.0.0.1', port]];
}
function v6(port: number): AddrInfo {
  return [AF_INET6, SOCK_STREAM, IPPROTO_TCP, '', ['::1', port, 0, 0]];
}

async function listening(host: string): Promise<net.Server> {
  // The client may close with 'hi' unread, and its kernel then answers with a reset: not an error of this test.
  const server = net.createServer((s) => s.on('error', () => {}).end('hi'));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  onCleanup(() => server.close());
  return server;
}

async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('resolution through loop.getaddrinfo', () => {
  it('createConnection connects where the replaced resolver of this loop says', async () => {
    const loop = newLoop();
    const server = await listening('127.0.0.1');
    const port = (server.address() as net.AddressInfo).port;
    const calls = mapNames(loop, { 'service.test': [v4(port)] });
    const [transport] = await loop.runUntilComplete(loop.createConnection(() => new Protocol(), 'service.test', 1234));
    expect(calls).toEqual([['service.test', 1234]]);
    expect(transport.getExtraInfo('peername')).toEqual(['127.0.0.1', port]);
    await closeAndWait(loop, transport);
    // Another loop keeps the real resolver.
    const other = newLoop();
    expect((other as unknown as { getaddrinfo: unknown }).getaddrinfo).not.toBe((loop as unknown as { getaddrinfo: unknown }).getaddrinfo);
  });

  it('IP literals with numeric ports skip the resolver', async () => {
    const loop = newLoop();
    const server = await listening('127.0.0.1');
    const port = (server.address() as net.AddressInfo).port;
    const calls = mapNames(loop, {});
    const [transport] = await loop.runUntilComplete(loop.createConnection(() => new Protocol(), '127.0.0.1', port));
    expect(calls).toEqual([]);
    await closeAndWait(loop, transport);
  });

  it('localAddr resolves through the loop too', async () => {
    const loop = newLoop();
    const server = await listening('127.0.0.1');
    const port = (server.address() as net.AddressInfo).port;
    const calls = mapNames(loop, { 'me.test': [v4(0)] });
    const [transport] = await loop.runUntilComplete(loop.createConnection(() => new Protocol(), '127.0.0.1', port, { localAddr: ['me.test', 0] }));
    expect(calls).toEqual([['me.test', 0]]);
    expect((transport.getExtraInfo('sockname') as [string, number])[0]).toBe('127.0.0.1');
    await closeAndWait(loop, transport);
  });

  it('createServer binds what the replaced resolver returns', async () => {
    const loop = newLoop();
    const port = await freePort('127.0.0.1');
    const calls = mapNames(loop, { 'bind.test': [v4(port)] });
    const server = await loop.runUntilComplete(loop.createServer(() => new Protocol(), 'bind.test', 80));
    expect(calls).toEqual([['bind.test', 80]]);
    expect(server.sockets.map((s) => s.getsockname())).toEqual([['127.0.0.1', port]]);
    server.close();
    await loop.runUntilComplete(server.waitClosed());
  });

  it('a resolver error rejects the call with that error', async () => {
    const loop = newLoop();
    mapNames(loop, {});
    const error = await loop.runUntilComplete(loop.createConnection(() => new Protocol(), 'nowhere.test', 1)).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/Name or service not known: nowhere\.test/);
  });

  it('all addresses failing with different messages: "Multiple exceptions: ..." in attempt order; allErrors: AggregateError', async () => {
    const loop = newLoop();
    const p4 = await freePort('127.0.0.1');
    const p6 = await freePort('::1');
    mapNames(loop, { 'dead.test': [v4(p4), v6(p6)] });
    const error = await loop.runUntilComplete(loop.createConnection(() => new Protocol(), 'dead.test', 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MultipleConnectErrors);
    expect((error as Error).message).toBe(`Multiple exceptions: connect ECONNREFUSED 127.0.0.1:${p4}, connect ECONNREFUSED ::1:${p6}`);
    const all = await loop.runUntilComplete(loop.createConnection(() => new Protocol(), 'dead.test', 1, { allErrors: true })).catch((e: unknown) => e);
    expect(all).toBeInstanceOf(AggregateError);
    expect((all as AggregateError).errors.map((e: Error) => e.message)).toEqual([`connect ECONNREFUSED 127.0.0.1:${p4}`, `connect ECONNREFUSED ::1:${p6}`]);
  });

  it('all addresses failing with the same message: that one error', async () => {
    const loop = newLoop();
    const p4 = await freePort('127.0.0.1');
    mapNames(loop, { 'dead.test': [v4(p4), v4(p4)] });
    const error = await loop.runUntilComplete(loop.createConnection(() => new Protocol(), 'dead.test', 1)).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(MultipleConnectErrors);
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
