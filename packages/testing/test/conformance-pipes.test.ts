/**
 * Core's pipe transports against the conformance kit's asyncio transport
 * contract (tested here: core cannot depend on this package, which depends on
 * it). A WritePipeTransport on the write end of a real FIFO (made with mkfifo
 * in a temporary directory) sends to a ReadPipeTransport on its read end. Pipes are one-way, so the checks that
 * need the other direction are skipped.
 */
import { spawnSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadPipeTransport, WritePipeTransport } from '@aioloop/core';
import { describeTransportConformance } from '../src/conformance.js';

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
