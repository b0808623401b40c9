import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, EventLoop, sleep } from '@aioloop/core';
import {
  MultipleConnectErrors,
  connectSocket,
  connectToAddresses,
  interleaveAddrinfos,
} from '../src/connect.js';
import { AF_INET, AF_INET6, IPPROTO_TCP, SOCK_STREAM, type AddrInfo } from '../src/dns.js';

const loops: EventLoop[] = [];
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const children: ChildProcess[] = [];

function newLoop(): EventLoop {
  const loop = new EventLoop({ debug: false });
  loops.push(loop);
  return loop;
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

/** An echo server on `host`; resolves to its port. `accepted` collects the server-side sockets. */
async function echoServer(host: string, accepted: net.Socket[] = []): Promise<number> {
  const server = net.createServer((s) => {
    accepted.push(s);
    sockets.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A port on `host` where nothing listens (bound, then closed). */
async function closedPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * A 127.0.0.1 listener that never accepts, with its accept queue filled, so
 * new SYNs to it are dropped: a connection attempt just hangs.
 */
async function deadPort(): Promise<number> {
  const script = `
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
fill = []
for i in range(8):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.3)
print(s.getsockname()[1], flush=True)
time.sleep(60)
`;
  const child = spawn('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString()));
    child.once('error', reject);
  });
  return Number(line.trim());
}

function info(host: string, port: number): AddrInfo {
  return net.isIPv6(host) ? [AF_INET6, SOCK_STREAM, IPPROTO_TCP, '', [host, port, 0, 0]] : [AF_INET, SOCK_STREAM, IPPROTO_TCP, '', [host, port]];
}

/** Sends `text` over `sock` and waits for it to come back. */
async function roundTrip(sock: net.Socket, text: string): Promise<string> {
  sock.write(text);
  return new Promise((resolve) => sock.once('data', (d: Buffer) => resolve(d.toString())));
}

/** Waits (in real time, generously) until `condition` holds: for events outside any loop, such as Node closing a handle. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited >= timeoutMs) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

describe('connectSocket to a real peer', () => {
  it('connects to 127.0.0.1 and exchanges bytes', async () => {
    const loop = newLoop();
    const port = await echoServer('127.0.0.1');
    const sock = await loop.runUntilComplete(() => connectSocket(loop, '127.0.0.1', port));
    sockets.push(sock);
    expect(sock.remoteAddress).toBe('127.0.0.1');
    expect(sock.remotePort).toBe(port);
    expect(await roundTrip(sock, 'ping')).toBe('ping');
  });

  it('connects to ::1', async () => {
    const loop = newLoop();
    const port = await echoServer('::1');
    const sock = await loop.runUntilComplete(() => connectSocket(loop, '::1', port));
    sockets.push(sock);
    expect(sock.remoteAddress).toBe('::1');
    expect(sock.remoteFamily).toBe('IPv6');
  });

  it('resolves localhost and accepts the port as a numeric string', async () => {
    const loop = newLoop();
    const port = await echoServer('127.0.0.1');
    const sock = await loop.runUntilComplete(() => connectSocket(loop, 'localhost', String(port), { family: AF_INET }));
    sockets.push(sock);
    expect(sock.remotePort).toBe(port);
  });

  it('rejects a refused connection with ECONNREFUSED', async () => {
    const loop = newLoop();
    const port = await closedPort('127.0.0.1');
    await expect(loop.runUntilComplete(() => connectSocket(loop, '127.0.0.1', port))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('only tries the family asked for', async () => {
    const loop = newLoop();
    const port = await echoServer('::1');
    // Only ::1 listens; AF_INET restricts the null host to 127.0.0.1, which refuses.
    await expect(loop.runUntilComplete(() => connectSocket(loop, null, port, { family: AF_INET }))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const sock = await loop.runUntilComplete(() => connectSocket(loop, null, port, { family: AF_INET6 }));
    sockets.push(sock);
    expect(sock.remoteAddress).toBe('::1');
  });

  it('passes resolver errors through (AI_NUMERICHOST with a name)', async () => {
    const loop = newLoop();
    await expect(loop.runUntilComplete(() => connectSocket(loop, 'localhost', 80, { flags: 4 }))).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('trying several addresses', () => {
  it('moves to the next address when one refuses', async () => {
    const loop = newLoop();
    const refused = await closedPort('127.0.0.1');
    const port = await echoServer('127.0.0.1');
    const sock = await loop.runUntilComplete(() => connectToAddresses(loop, [info('127.0.0.1', refused), info('127.0.0.1', port)]));
    sockets.push(sock);
    expect(sock.remotePort).toBe(port);
  });

  it('tries the null host on ::1 then 127.0.0.1', async () => {
    const loop = newLoop();
    const port = await echoServer('127.0.0.1');
    // ::1:port is (almost surely) closed; 127.0.0.1:port answers.
    const sock = await loop.runUntilComplete(() => connectSocket(loop, null, port));
    sockets.push(sock);
    expect(sock.remoteAddress).toBe('127.0.0.1');
  });

  it('raises the error itself when every attempt failed with the same message', async () => {
    const loop = newLoop();
    const refused = await closedPort('127.0.0.1');
    const error = await loop.runUntilComplete(() => connectToAddresses(loop, [info('127.0.0.1', refused), info('127.0.0.1', refused)])).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(MultipleConnectErrors);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('raises "Multiple exceptions: ..." listing each different failure', async () => {
    const loop = newLoop();
    const a = await closedPort('127.0.0.1');
    const b = await closedPort('::1');
    const error = await loop.runUntilComplete(() => connectToAddresses(loop, [info('127.0.0.1', a), info('::1', b)])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MultipleConnectErrors);
    const multiple = error as MultipleConnectErrors;
    expect(multiple.message).toMatch(/^Multiple exceptions: connect ECONNREFUSED 127\.0\.0\.1:\d+, connect ECONNREFUSED ::1:\d+$/);
    expect(multiple.errors.map((e) => (e as Error & { code: string }).code)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('rejects with an AggregateError of every attempt with allErrors', async () => {
    const loop = newLoop();
    const refused = await closedPort('127.0.0.1');
    const error = await loop
      .runUntilComplete(() => connectToAddresses(loop, [info('127.0.0.1', refused), info('127.0.0.1', refused)], { allErrors: true }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toHaveLength(2);
    expect((error as AggregateError).errors.every((e: { code?: string }) => e.code === 'ECONNREFUSED')).toBe(true);
  });
});

describe('Happy Eyeballs', () => {
  it('starts the next address after happyEyeballsDelay when the first hangs', async () => {
    const loop = newLoop();
    const dead = await deadPort();
    const port = await echoServer('127.0.0.1');
    const started = performance.now();
    const sock = await loop.runUntilComplete(() =>
      connectToAddresses(loop, [info('127.0.0.1', dead), info('127.0.0.1', port)], { happyEyeballsDelay: 0.25 }),
    );
    const elapsed = (performance.now() - started) / 1000;
    sockets.push(sock);
    expect(sock.remotePort).toBe(port);
    // Not before the delay. (Not waiting for the hanging attempt needs no clock: it
    // never answers, so this test would time out.)
    expect(elapsed).toBeGreaterThan(0.2);
    expect(await roundTrip(sock, 'he')).toBe('he');
  });

  it('destroys the losing attempt once one connects', async () => {
    const loop = newLoop();
    const dead = await deadPort();
    const accepted: net.Socket[] = [];
    const port = await echoServer('127.0.0.1', accepted);
    const before = tcpHandles();
    const sock = await loop.runUntilComplete(() =>
      connectToAddresses(loop, [info('127.0.0.1', dead), info('127.0.0.1', port)], { happyEyeballsDelay: 0.1 }),
    );
    sockets.push(sock);
    // Once the server has accepted, one client handle (the winner) plus the server's
    // accepted one remain; the hanging attempt's handle goes when Node closes it.
    await until(() => accepted.length === 1 && tcpHandles() - before === 2, 'the losing attempt closed');
    expect(tcpHandles() - before).toBe(2);
  });

  it('without a delay waits for the hanging attempt (no parallel start)', async () => {
    const loop = newLoop();
    const dead = await deadPort();
    const port = await echoServer('127.0.0.1');
    const result = await loop.runUntilComplete(async () => {
      const attempt = connectToAddresses(loop, [info('127.0.0.1', dead), info('127.0.0.1', port)]);
      await sleep(0.6);
      const done = attempt.done();
      attempt.cancel();
      return done;
    });
    expect(result).toBe(false);
  });

  it('interleaves families by default when happyEyeballsDelay is set (asyncio order)', () => {
    const v6a = info('::1', 1);
    const v6b = info('::1', 2);
    const v4a = info('127.0.0.1', 3);
    const v4b = info('127.0.0.1', 4);
    const v4c = info('127.0.0.1', 5);
    expect(interleaveAddrinfos([v6a, v6b, v4a, v4b, v4c])).toEqual([v6a, v4a, v6b, v4b, v4c]);
    expect(interleaveAddrinfos([v6a, v6b, v4a, v4b, v4c], 2)).toEqual([v6a, v6b, v4a, v4b, v4c]);
    expect(interleaveAddrinfos([v4a, v6a, v4b, v6b], 1)).toEqual([v4a, v6a, v4b, v6b]);
  });

  it('starts the next attempt at once when the previous one fails before the delay', async () => {
    const loop = newLoop();
    const refused = await closedPort('127.0.0.1');
    const port = await echoServer('127.0.0.1');
    // An hour's delay: had the second attempt waited for it, this test would time out.
    const sock = await loop.runUntilComplete(() =>
      connectToAddresses(loop, [info('127.0.0.1', refused), info('127.0.0.1', port)], { happyEyeballsDelay: 3600 }),
    );
    sockets.push(sock);
    expect(sock.remotePort).toBe(port);
  });
});

describe('cancellation', () => {
  it('destroys every pending attempt when the awaiting task is cancelled', async () => {
    const loop = newLoop();
    const dead = await deadPort();
    const before = tcpHandles();
    const outcome = await loop.runUntilComplete(async () => {
      const task = loop.createTask(() => connectToAddresses(loop, [info('127.0.0.1', dead), info('127.0.0.1', dead)], { happyEyeballsDelay: 0.05 }));
      await sleep(0.2);
      const during = tcpHandles() - before;
      task.cancel();
      const error = await task.then(
        () => null,
        (e: unknown) => e,
      );
      return { during, error };
    });
    expect(outcome.during).toBe(2);
    expect(outcome.error).toBeInstanceOf(CancelledError);
    // Node closes destroyed handles in a later turn: wait for it, however loaded the machine.
    await until(() => tcpHandles() === before, 'every attempt closed');
  });
});

describe('cancellation of the returned future', () => {
  it('destroys every attempt at once, even when the loop stops right after', async () => {
    const loop = newLoop();
    const dead = await deadPort();
    const before = tcpHandles();
    const during = await loop.runUntilComplete(async () => {
      const connecting = connectToAddresses(loop, [info('127.0.0.1', dead), info('127.0.0.1', dead)], { happyEyeballsDelay: 0.05 });
      await sleep(0.2);
      connecting.cancel();
      return tcpHandles() - before;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(during).toBe(2);
    expect(tcpHandles() - before).toBe(0);
  });
});

describe('localAddr', () => {
  it('binds the local side to the given address and port before connecting', async () => {
    const loop = newLoop();
    const accepted: net.Socket[] = [];
    const port = await echoServer('127.0.0.1', accepted);
    const localPort = await closedPort('127.0.0.1');
    const sock = await loop.runUntilComplete(() => connectSocket(loop, '127.0.0.1', port, { localAddr: ['127.0.0.1', localPort] }));
    sockets.push(sock);
    expect(sock.localPort).toBe(localPort);
    await roundTrip(sock, 'x');
    expect(accepted[0]?.remotePort).toBe(localPort);
  });

  it('fails with "no matching local address" when no local address has the remote family', async () => {
    const loop = newLoop();
    const port = await echoServer('::1');
    await expect(loop.runUntilComplete(() => connectSocket(loop, '::1', port, { localAddr: ['127.0.0.1', 0] }))).rejects.toThrow(
      'no matching local address with family=AF_INET6 found',
    );
  });

  it('reports a local port already in use with Node’s code', async () => {
    const loop = newLoop();
    const port = await echoServer('127.0.0.1');
    const busy = new net.Server();
    servers.push(busy);
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const busyPort = (busy.address() as net.AddressInfo).port;
    await expect(loop.runUntilComplete(() => connectSocket(loop, '127.0.0.1', port, { localAddr: ['127.0.0.1', busyPort] }))).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});

describe('sock and onread', () => {
  it('returns a connected sock as is', async () => {
    const loop = newLoop();
    const port = await echoServer('127.0.0.1');
    const given = net.connect(port, '127.0.0.1');
    sockets.push(given);
    await new Promise((r) => given.once('connect', r));
    const sock = await loop.runUntilComplete(() => connectSocket(loop, null, null, { sock: given }));
    expect(sock).toBe(given);
  });

  it('rejects a sock together with host/port, an unconnected sock and a non-socket', async () => {
    const loop = newLoop();
    const port = await echoServer('127.0.0.1');
    const pending = net.connect(port, '127.0.0.1');
    sockets.push(pending);
    expect(() => connectSocket(loop, '127.0.0.1', port, { sock: pending })).toThrow('host/port and sock can not be specified at the same time');
    expect(() => connectSocket(loop, null, null, { sock: pending })).toThrow(/not connected yet/);
    expect(() => connectSocket(loop, null, null, { sock: {} as net.Socket })).toThrow(/sock must be a connected net.Socket/);
  });

  it('delivers received bytes into the onread buffer of the winning socket', async () => {
    const loop = newLoop();
    const port = await echoServer('127.0.0.1');
    const buffer = Buffer.alloc(64);
    const received: string[] = [];
    let notify: () => void = () => {};
    const sock = await loop.runUntilComplete(() =>
      connectSocket(loop, '127.0.0.1', port, {
        onread: {
          buffer,
          callback: (n, buf) => {
            received.push(Buffer.from(buf.subarray(0, n)).toString());
            notify();
            return true;
          },
        },
      }),
    );
    sockets.push(sock);
    const arrived = new Promise<void>((r) => (notify = r));
    sock.write('zero-copy');
    await arrived;
    expect(received.join('')).toBe('zero-copy');
  });
});

describe('argument checks', () => {
  it('names the bad argument and what is accepted', () => {
    const loop = newLoop();
    expect(() => connectSocket(loop, null, null)).toThrow('host and port was not specified and no sock specified');
    expect(() => connectSocket(loop, 5 as unknown as string, 80)).toThrow(/host must be a string/);
    expect(() => connectSocket(loop, '127.0.0.1', 65536)).toThrow(/port must be an integer 0-65535/);
    expect(() => connectSocket(loop, '127.0.0.1', 1.5)).toThrow(RangeError);
    expect(() => connectSocket(loop, '127.0.0.1', 80, { happyEyeballsDelay: -1 })).toThrow(/happyEyeballsDelay must be a number of seconds >= 0/);
    expect(() => connectSocket(loop, '127.0.0.1', 80, { happyEyeballsDelay: '0.25' as unknown as number })).toThrow(/happyEyeballsDelay/);
    expect(() => connectSocket(loop, '127.0.0.1', 80, { interleave: 1.5 })).toThrow(/interleave must be a positive integer/);
    expect(() => connectSocket(loop, '127.0.0.1', 80, { family: 7 })).toThrow(/family must be AF_UNSPEC/);
    expect(() => connectSocket(loop, '127.0.0.1', 80, { localAddr: ['127.0.0.1'] as unknown as [string, number] })).toThrow(/localAddr must be \[host, port\]/);
    expect(() => connectSocket(loop, '127.0.0.1', 80, { allErrors: 1 as unknown as boolean })).toThrow(/allErrors must be a boolean/);
    expect(() => connectToAddresses(loop, [])).toThrow(/non-empty array/);
    expect(() => connectToAddresses(loop, [[AF_INET, SOCK_STREAM, 6, '', ['localhost', 80]]])).toThrow(/numericHost/);
  });
});
