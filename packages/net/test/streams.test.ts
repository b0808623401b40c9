import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import * as core from '@aioloop/core';
import { IncompleteReadError, LimitOverrunError, wrapFuture, type EventLoop, type ExceptionContext, type Future } from '@aioloop/core';
import { StreamReader, StreamWriter, openConnection, openUnixConnection, startServer, startUnixServer } from '../src/index.js';
import { checkFdLeaks, newLoop, onCleanup, pattern, startPeer } from './support.js';
import { testPki } from './tls-support.js';

const PEER = fileURLToPath(new URL('./peers/streams_peer.py', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioloop-streams-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The line protocol of peers/streams_peer.py, served by us: lines upper-cased, blobs hashed, "bye" at EOF. */
async function lineServer(reader: StreamReader, writer: StreamWriter): Promise<void> {
  let lines = 0;
  let blobs = 0;
  for await (const line of reader) {
    const text = line.toString();
    if (text.startsWith('blob ')) {
      const data = await reader.readexactly(Number(text.slice(5)));
      writer.write(Buffer.from(`sha ${sha(data)}\n`));
      blobs++;
    } else {
      writer.write(Buffer.from(text.toUpperCase()));
      lines++;
    }
    await writer.drain();
  }
  writer.write(Buffer.from(`bye ${lines} ${blobs}\n`));
  await writer.drain();
  writer.close();
  await writer.waitClosed();
}

/** The client side of the same exchange; returns what it read. */
async function lineClient(reader: StreamReader, writer: StreamWriter, blobSize: number): Promise<{ replies: string[]; sha: string; expected: string; rest: string }> {
  const replies: string[] = [];
  for (let i = 0; i < 3; i++) {
    writer.write(Buffer.from(`hello ${i} from node\n`));
    await writer.drain();
    replies.push((await reader.readline()).toString());
  }
  const blob = pattern(blobSize, 7);
  writer.writelines([Buffer.from(`blob ${blob.length}\n`), blob]);
  await writer.drain();
  const digest = (await reader.readline()).toString().trim();
  writer.writeEof();
  const rest = (await reader.read()).toString();
  writer.close();
  await writer.waitClosed();
  return { replies, sha: digest, expected: `sha ${sha(blob)}`, rest };
}

function expectExchange(report: { replies: string[]; sha: string; expected: string; rest: string }, who: string): void {
  expect(report.replies).toEqual([0, 1, 2].map((i) => `HELLO ${i} FROM ${who}\n`));
  expect(report.sha).toBe(report.expected);
  expect(report.rest).toBe('bye 3 1\n');
}

describe('openConnection / startServer', () => {
  beforeEach(checkFdLeaks);

  it('echo over TCP: an async handler per connection, readline/readexactly/read to EOF, half-close, waitClosed', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server = await startServer(lineServer, '127.0.0.1', 0);
      const port = server.sockets[0]!.getsockname()[1];
      const [reader, writer] = await openConnection('127.0.0.1', port);
      expect(reader).toBeInstanceOf(core.StreamReader);
      expect(writer.getExtraInfo<[string, number]>('peername')?.[1]).toBe(port);
      expect(writer.canWriteEof()).toBe(true);
      expectExchange(await lineClient(reader, writer, 300_000), 'NODE');
      expect(reader.atEof()).toBe(true);
      server.close();
      await server.waitClosed();
    });
  });

  it('echo over a Unix socket (startUnixServer / openUnixConnection), with a sync client-connected callback', async () => {
    const loop = newLoop();
    const sockPath = path.join(tempDir(), 's.sock');
    const tasks: Future<void>[] = [];
    await loop.runUntilComplete(async () => {
      // A plain function: called in connectionMade, as asyncio calls a non-coroutine callback.
      const server = await startUnixServer((reader, writer) => {
        tasks.push(loop.createTask(() => lineServer(reader, writer)));
      }, sockPath);
      expect(server.sockets[0]!.getsockname()).toBe(sockPath);
      const [reader, writer] = await openUnixConnection(sockPath, { limit: 1024 });
      expect(reader.limit).toBe(1024);
      expect(writer.getExtraInfo('peername')).toBe(sockPath);
      expectExchange(await lineClient(reader, writer, 100_000), 'NODE');
      await tasks[0];
      server.close();
      await server.waitClosed();
    });
    expect(fs.existsSync(sockPath)).toBe(false);
  });

  it('a Python asyncio client (open_connection) talks to our startServer', async () => {
    const loop = newLoop();
    let server!: Awaited<ReturnType<typeof startServer>>;
    await loop.runUntilComplete(async () => {
      server = await startServer(lineServer, '127.0.0.1', 0);
    });
    const peer = startPeer(PEER, ['client', String(server.sockets[0]!.getsockname()[1]), '1000000']);
    let report!: Parameters<typeof expectExchange>[0];
    await loop.runUntilComplete(async () => {
      report = JSON.parse(await wrapFuture(peer.nextLine(), loop)) as typeof report;
      server.close();
      await server.waitClosed();
    });
    expectExchange(report, 'PYTHON');
    expect(await peer.exited).toBe(0);
  });

  it('our openConnection talks to a Python asyncio start_server', async () => {
    const loop = newLoop();
    const peer = startPeer(PEER, ['server']);
    const port = Number(await peer.nextLine());
    await loop.runUntilComplete(async () => {
      const [reader, writer] = await openConnection('127.0.0.1', port);
      expectExchange(await lineClient(reader, writer, 1_000_000), 'NODE');
    });
    expect(await peer.exited).toBe(0);
  });

  it('readuntil: separators (one, an array: the first to end wins), LimitOverrunError keeps the data, readline drops an over-long line', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server = await startServer(async (_reader, writer) => {
        writer.write(Buffer.from('alpha\r\nbeta;gamma|'));
        writer.write(Buffer.alloc(3000, 0x78)); // 3000 'x', no separator
        writer.write(Buffer.from('|tail\n'));
        writer.write(Buffer.alloc(2000, 0x79)); // an over-long line
        writer.write(Buffer.from('\nlast'));
        await writer.drain();
        writer.close();
      }, '127.0.0.1', 0);
      const [reader, writer] = await openConnection('127.0.0.1', server.sockets[0]!.getsockname()[1], { limit: 1024 });
      expect((await reader.readuntil('\r\n')).toString()).toBe('alpha\r\n');
      expect((await reader.readuntil([';', 'gamma|', 'beta'])).toString()).toBe('beta');
      expect((await reader.readuntil([Buffer.from('|'), ';'])).toString()).toBe(';');
      expect((await reader.readuntil('|')).toString()).toBe('gamma|');
      const overrun = await reader.readuntil('|').then(() => null, (e: unknown) => e);
      expect(overrun).toBeInstanceOf(LimitOverrunError);
      expect((overrun as LimitOverrunError).consumed).toBeGreaterThan(1024);
      // Left in the buffer: read it by size.
      expect((await reader.readexactly(3000)).equals(Buffer.alloc(3000, 0x78))).toBe(true);
      expect((await reader.readuntil('|')).toString()).toBe('|');
      expect((await reader.readline()).toString()).toBe('tail\n');
      const tooLong = await reader.readline().then(() => null, (e: unknown) => e);
      expect(tooLong).toBeInstanceOf(RangeError);
      expect((tooLong as Error).cause).toBeInstanceOf(LimitOverrunError);
      const end = await reader.readuntil('\n').then(() => null, (e: unknown) => e);
      expect(end).toBeInstanceOf(IncompleteReadError);
      expect(Buffer.from((end as IncompleteReadError).partial).toString()).toBe('last');
      expect(reader.atEof()).toBe(true);
      expect((await reader.read()).length).toBe(0);
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    });
  });

  it('drain() waits while a slow reader holds the connection back, and every byte arrives', async () => {
    const loop = newLoop();
    const size = 32 * 1024 * 1024;
    await loop.runUntilComplete(async () => {
      const gate = loop.createFuture<void>();
      const serverReader = loop.createFuture<StreamReader>();
      const server = await startServer(async (reader, writer) => {
        serverReader.setResult(reader);
        await gate; // not reading: the reader fills to twice its limit, pauses, then the kernel buffers fill
        const data = await reader.readexactly(size);
        writer.write(Buffer.from(`${sha(data)}\n`));
        await writer.drain();
        writer.close();
      }, '127.0.0.1', 0, { limit: 64 * 1024 });
      const [reader, writer] = await openConnection('127.0.0.1', server.sockets[0]!.getsockname()[1]);
      const data = pattern(size, 3);
      writer.write(data);
      const draining = loop.createTask(() => writer.drain());
      const peerReader = await serverReader;
      // The server's reader paused its transport past twice its limit: nothing can drain our buffer now.
      while (peerReader.bufferedSize <= 2 * 64 * 1024) await core.sleep(0.01);
      for (let i = 0; i < 20; i++) await core.sleep(0);
      expect(draining.done()).toBe(false);
      expect(writer.transport.getWriteBufferSize()).toBeGreaterThan(writer.transport.getWriteBufferLimits()[1]);
      gate.setResult(undefined);
      await draining;
      expect((await reader.readline()).toString()).toBe(`${sha(data)}\n`);
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    });
  });

  it('TLS through ssl: startServer serves TLS, openConnection verifies it; no half-close over TLS', async () => {
    const loop = newLoop();
    const pki = testPki();
    await loop.runUntilComplete(async () => {
      const server = await startServer(lineServer, '127.0.0.1', 0, { ssl: { cert: pki.cert, key: pki.key } });
      const port = server.sockets[0]!.getsockname()[1];
      const [reader, writer] = await openConnection('127.0.0.1', port, { ssl: { ca: pki.ca }, serverHostname: 'localhost' });
      expect(writer.getExtraInfo('sslcontext')).not.toBeNull();
      expect(writer.getExtraInfo('peercert')).toBeTruthy();
      expect(writer.canWriteEof()).toBe(false);
      writer.write(Buffer.from('over tls\n'));
      await writer.drain();
      expect((await reader.readline()).toString()).toBe('OVER TLS\n');
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    });
  });

  it("an async callback's exception goes to the loop's exception handler and the connection closes", async () => {
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l: EventLoop, context: ExceptionContext) => contexts.push(context));
    await loop.runUntilComplete(async () => {
      const server = await startServer(async (reader) => {
        await reader.readline();
        throw new Error('handler failed');
      }, '127.0.0.1', 0);
      const [reader, writer] = await openConnection('127.0.0.1', server.sockets[0]!.getsockname()[1]);
      writer.write(Buffer.from('boom\n'));
      expect((await reader.read()).length).toBe(0); // closed by the server
      expect(contexts).toHaveLength(1);
      expect(contexts[0]!.message).toBe('Unhandled exception in client_connected_cb');
      expect((contexts[0]!.exception as Error).message).toBe('handler failed');
      expect(contexts[0]!.transport).toBeDefined();
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    });
  });

  it('cancelling openConnection / startServer before or while they run leaves no socket open', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const server = await startServer(async (_reader, writer) => writer.close(), '127.0.0.1', 0);
      const port = server.sockets[0]!.getsockname()[1];
      for (let iterations = 0; iterations < 6; iterations++) {
        const connecting = openConnection('127.0.0.1', port);
        const binding = startServer(() => {}, '127.0.0.1', 0);
        for (let i = 0; i < iterations; i++) await core.sleep(0);
        connecting.cancel();
        binding.cancel();
        for (const task of [connecting, binding] as Future<unknown>[]) {
          const outcome = await wrapFuture(Promise.resolve(task).then(() => 'done', (e: unknown) => (e as Error).name), loop);
          expect(['done', 'CancelledError']).toContain(outcome);
          if (outcome === 'done') expect(task.cancelled()).toBe(false);
        }
        // A task that finished before the cancel keeps its result: close it as a user would.
        if (!connecting.cancelled()) connecting.result()[1].close();
        if (!binding.cancelled()) binding.result().close();
      }
      for (let i = 0; i < 5; i++) await core.sleep(0.01);
      server.close();
      await server.waitClosed();
    });
  });

  it('bad arguments throw at the call, naming the public function', async () => {
    const loop = newLoop();
    expect(() => openConnection('127.0.0.1', 1)).toThrow(/openConnection\(\): no running event loop/);
    await loop.runUntilComplete(async () => {
      expect(() => startServer('nope' as never, '127.0.0.1', 0)).toThrow(/startServer\(\): clientConnectedCb must be a function/);
      expect(() => openConnection('127.0.0.1', 1, { limit: 0 })).toThrow(RangeError);
      expect(() => openConnection('127.0.0.1', 1, { limit: 0 })).toThrow(/openConnection\(\): limit must be a whole number of bytes > 0, got 0/);
      expect(() => startServer(() => {}, '127.0.0.1', 70000)).toThrow(/startServer\(\): port must be an integer 0-65535/);
      expect(() => openConnection('127.0.0.1', 1, { lmit: 5 } as never)).toThrow(/openConnection\(\): unknown option "lmit"; accepted: .*family/);
      expect(() => startUnixServer(async () => {}, '/tmp/x', { backlog: -1 })).toThrow(/startUnixServer\(\): backlog/);
      expect(() => openUnixConnection('', {})).toThrow(/openUnixConnection\(\): path must be a non-empty string/);
      expect(() => openConnection('127.0.0.1', 1, 'x' as never)).toThrow(/openConnection\(\): options must be an object/);
    });
  });

  it('the process exits after the server is closed (the asyncio docs stream echo, ported)', async () => {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', tsx, `${fixtures}streams-exit.ts`], {
        env: { ...process.env, TSX_TSCONFIG_PATH: `${fixtures}tsconfig.json` },
        timeout: 60_000,
        killSignal: 'SIGKILL',
      }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : (error.code as number | null), stdout, stderr }));
      onCleanup(() => {
        if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      });
    });
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('Received: Hello World!\nserving: false\n');
    expect(out.code).toBe(0);
  });
});

describe('one class for every package', () => {
  it("net's StreamReader and StreamWriter are core's", () => {
    expect(StreamReader).toBe(core.StreamReader);
    expect(StreamWriter).toBe(core.StreamWriter);
  });
});
