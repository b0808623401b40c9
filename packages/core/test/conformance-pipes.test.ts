/**
 * Core's pipe transports against the asyncio transport contract of
 * @aioloop/testing's conformance kit: a WritePipeTransport on the write end of
 * a real FIFO (made with mkfifo in a temporary directory) sends to a
 * ReadPipeTransport on its read end. Pipes are one-way, so the checks that
 * need the other direction are skipped.
 */
import { spawnSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadPipeTransport, WritePipeTransport, type BaseProtocolLike, type EventLoop, type ReadTransport, type WriteTransport } from '../src/index.js';

// @aioloop/testing depends on @aioloop/core, so core cannot depend on it: the kit
// is loaded from its sources at run time, and typed here with the part this file uses.
interface PairContext {
  loop: EventLoop;
  clientProtocol: () => BaseProtocolLike<never>;
  serverProtocol: () => BaseProtocolLike<never>;
}
interface ConformanceKit {
  describeTransportConformance(
    name: string,
    makePair: (ctx: PairContext) => Promise<{ client: WriteTransport; server: ReadTransport; cleanup?: () => void }>,
    options?: { oneWay?: boolean },
  ): void;
}
const kitModule: string = new URL('../../testing/src/conformance.ts', import.meta.url).pathname;
const { describeTransportConformance } = (await import(/* @vite-ignore */ kitModule)) as ConformanceKit;

describeTransportConformance(
  'pipe (FIFO) write end -> read end',
  async ({ loop, clientProtocol, serverProtocol }) => {
    const dir = mkdtempSync(join(tmpdir(), 'aioloop-pipe-conformance-'));
    const path = join(dir, 'fifo');
    const made = spawnSync('mkfifo', [path]);
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr.toString()}`);
    // Open the read end first (non-blocking), then the write end succeeds at once.
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    const readable = new net.Socket({ fd: readFd, readable: true, writable: false });
    const writable = new net.Socket({ fd: writeFd, readable: false, writable: true });
    const serverReady = loop.createFuture<void>();
    const clientReady = loop.createFuture<void>();
    const server = new ReadPipeTransport(loop, readable, serverProtocol(), { waiter: serverReady, extra: { pipe: readFd } });
    const client = new WritePipeTransport(loop, writable, clientProtocol(), { waiter: clientReady, extra: { pipe: writeFd } });
    await serverReady;
    await clientReady;
    return {
      client,
      server,
      cleanup: () => {
        readable.destroy();
        writable.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { oneWay: true },
);
