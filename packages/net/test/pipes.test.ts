import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferedProtocol, CancelledError, EventLoop, Protocol, sleep, type Transport, type WriteTransport } from '@aioloop/core';
import { connectReadPipe, connectWritePipe } from '../src/pipes.js';

const loops: EventLoop[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];
const fds: number[] = [];

function newLoop(): EventLoop {
  const loop = new EventLoop({ debug: false });
  loops.push(loop);
  return loop;
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const fd of fds.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      /* already closed by its transport */
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

function tmpDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aioloop-pipes-'));
  dirs.push(dir);
  return dir;
}

function makeFifo(): string {
  const path = join(tmpDir(), 'fifo');
  const out = spawnSync('mkfifo', [path]);
  if (out.status !== 0) throw new Error(`mkfifo failed: ${out.stderr.toString()}`);
  return path;
}

/** Both ends of a new FIFO, non-blocking: [read end, write end]. */
function fifoEnds(): [number, number] {
  const fifo = makeFifo();
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  return [readFd, openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)];
}

function track(child: ChildProcess): ChildProcess {
  children.push(child);
  return child;
}

/** A protocol recording every callback; `lost` settles on connectionLost. */
class Recorder extends Protocol {
  events: string[] = [];
  chunks: Buffer[] = [];
  transport: Transport | null = null;
  lostWith: Error | null | undefined = undefined;
  private resolveLost!: () => void;
  readonly lost = new Promise<void>((r) => (this.resolveLost = r));
  override connectionMade(transport: Transport): void {
    this.transport = transport;
    this.events.push('made');
  }
  override dataReceived(data: Buffer): void {
    this.chunks.push(data);
    if (this.events.at(-1) !== 'data') this.events.push('data');
  }
  override eofReceived(): void {
    this.events.push('eof');
  }
  override connectionLost(exc: Error | null): void {
    this.lostWith = exc;
    this.events.push('lost');
    this.resolveLost();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

describe('connectReadPipe', () => {
  it('reads a child process’s stdout stream until EOF', async () => {
    const loop = newLoop();
    const child = track(spawn('/bin/sh', ['-c', 'sleep 0.1; printf "hello "; sleep 0.05; printf world'], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const protocol = await loop.runUntilComplete(async () => {
      const [transport, proto] = await connectReadPipe(loop, () => new Recorder(), child.stdout!);
      expect(proto.transport).toBe(transport);
      expect(transport.getExtraInfo('pipe')).toBe(child.stdout);
      await proto.lost;
      return proto;
    });
    expect(protocol.text()).toBe('hello world');
    expect(protocol.events).toEqual(['made', 'data', 'eof', 'lost']);
    expect(protocol.lostWith).toBeNull();
  });

  it('reads a FIFO given as a file descriptor, written by another process', async () => {
    const loop = newLoop();
    const fifo = makeFifo();
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    // The transport owns this fd and closes it: closing it here too could close a reused number.
    const protocol = await loop.runUntilComplete(async () => {
      const [, proto] = await connectReadPipe(loop, () => new Recorder(), fd);
      track(spawn('/bin/sh', ['-c', `printf 'through the fifo' > "${fifo}"`], { stdio: 'ignore' }));
      await proto.lost;
      return proto;
    });
    expect(protocol.text()).toBe('through the fifo');
    expect(protocol.events).toEqual(['made', 'data', 'eof', 'lost']);
  });

  it('closes the file descriptor it was given when the transport closes', async () => {
    const loop = newLoop();
    const fifo = makeFifo();
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    // The transport owns this fd and closes it: closing it here too could close a reused number.
    await loop.runUntilComplete(async () => {
      const [transport, proto] = await connectReadPipe(loop, () => new Recorder(), fd);
      transport.close();
      await proto.lost;
      await sleep(0.05);
    });
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
  });

  it('feeds a BufferedProtocol through getBuffer/bufferUpdated', async () => {
    const loop = newLoop();
    class Collect extends BufferedProtocol {
      buf = Buffer.alloc(16);
      got: Buffer[] = [];
      done!: () => void;
      finished = new Promise<void>((r) => (this.done = r));
      getBuffer(): Uint8Array {
        return this.buf;
      }
      bufferUpdated(n: number): void {
        this.got.push(Buffer.from(this.buf.subarray(0, n)));
      }
      override connectionLost(): void {
        this.done();
      }
    }
    const child = track(spawn('/bin/sh', ['-c', 'sleep 0.1; printf "%s" 0123456789abcdefghijklmnopqrstuvwxyz'], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const proto = await loop.runUntilComplete(async () => {
      const [, p] = await connectReadPipe(loop, () => new Collect(), child.stdout!);
      await p.finished;
      return p;
    });
    expect(Buffer.concat(proto.got).toString()).toBe('0123456789abcdefghijklmnopqrstuvwxyz');
    expect(proto.got.every((b) => b.length <= 16)).toBe(true);
  });

  it('closes the transport when the awaiting task is cancelled before connectionMade completes', async () => {
    const loop = newLoop();
    const child = track(spawn('/bin/sh', ['-c', 'sleep 5'], { stdio: ['ignore', 'pipe', 'inherit'] }));
    let protocol: Recorder | null = null;
    const outcome = await loop.runUntilComplete(async () => {
      const task = loop.createTask(() =>
        connectReadPipe(loop, () => {
          protocol = new Recorder();
          return protocol;
        }, child.stdout!),
      );
      await sleep(0);
      task.cancel();
      const error = await task.then(
        () => null,
        (e: unknown) => e,
      );
      await sleep(0.05);
      return error;
    });
    expect(outcome).toBeInstanceOf(CancelledError);
    expect(protocol!.events).toEqual(['made', 'lost']);
  });
});

describe('connectWritePipe', () => {
  it('writes to a child’s stdin; closing the transport gives the child EOF', async () => {
    const loop = newLoop();
    const child = track(spawn('/bin/cat', [], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const result = await loop.runUntilComplete(async () => {
      const [reader, readProto] = await connectReadPipe(loop, () => new Recorder(), child.stdout!);
      const [writer, writeProto] = await connectWritePipe(loop, () => new Recorder(), child.stdin!);
      expect(writer.canWriteEof()).toBe(true);
      writer.write(Buffer.from('round '));
      writer.writelines([Buffer.from('trip')]);
      writer.close();
      await writeProto.lost;
      await readProto.lost;
      expect(reader.isClosing()).toBe(true);
      return { text: readProto.text(), writeLost: writeProto.lostWith };
    });
    expect(result).toEqual({ text: 'round trip', writeLost: null });
  });

  it('writes into a FIFO given as a file descriptor and the read side sees the bytes and EOF', async () => {
    const loop = newLoop();
    const fifo = makeFifo();
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    // The transport owns this fd and closes it: closing it here too could close a reused number.
    const text = await loop.runUntilComplete(async () => {
      const [, readProto] = await connectReadPipe(loop, () => new Recorder(), readFd);
      const [writer] = await connectWritePipe(loop, () => new Recorder(), writeFd);
      const payload = Buffer.alloc(200_000, 'x');
      writer.write(payload);
      writer.writeEof();
      await readProto.lost;
      return readProto.text();
    });
    expect(text.length).toBe(200_000);
  });

  it('pauses the protocol when the reader does not keep up, and resumes it after draining', async () => {
    const loop = newLoop();
    const child = track(spawn('/bin/sh', ['-c', 'sleep 0.3; cat > /dev/null'], { stdio: ['pipe', 'ignore', 'inherit'] }));
    class Flow extends Recorder {
      override pauseWriting(): void {
        this.events.push('pause');
      }
      override resumeWriting(): void {
        this.events.push('resume');
      }
    }
    const events = await loop.runUntilComplete(async () => {
      const [writer, proto] = await connectWritePipe(loop, () => new Flow(), child.stdin!);
      (writer as WriteTransport).setWriteBufferLimits(16 * 1024);
      writer.write(Buffer.alloc(1024 * 1024));
      for (let i = 0; i < 100 && !proto.events.includes('resume'); i++) await sleep(0.05);
      writer.close();
      await proto.lost;
      return proto.events;
    });
    expect(events).toEqual(['made', 'pause', 'resume', 'lost']);
  });

  it('reports EPIPE in connectionLost when the FIFO has no reader any more', async () => {
    const loop = newLoop();
    const fifo = makeFifo();
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    // The transport owns this fd and closes it: closing it here too could close a reused number.
    closeSync(readFd);
    const lostWith = await loop.runUntilComplete(async () => {
      const [writer, proto] = await connectWritePipe(loop, () => new Recorder(), writeFd);
      writer.write(Buffer.alloc(64 * 1024, 1));
      for (let i = 0; i < 40 && proto.lostWith === undefined; i++) await sleep(0.05);
      return proto.lostWith;
    });
    expect(lostWith).toMatchObject({ code: 'EPIPE' });
  });

  it('writes to a character device fd (/dev/null)', async () => {
    const loop = newLoop();
    const fd = openSync('/dev/null', 'w');
    // The transport owns this fd and closes it: closing it here too could close a reused number.
    const lost = await loop.runUntilComplete(async () => {
      const [writer, proto] = await connectWritePipe(loop, () => new Recorder(), fd);
      writer.write(Buffer.from('discarded'));
      writer.close();
      await proto.lost;
      return proto.lostWith;
    });
    expect(lost).toBeNull();
  });
});

describe('argument checks', () => {
  it('refuses a regular file descriptor as asyncio does', () => {
    const loop = newLoop();
    const file = join(tmpDir(), 'regular');
    writeFileSync(file, 'x');
    const fd = openSync(file, 'r');
    fds.push(fd);
    expect(() => connectReadPipe(loop, () => new Recorder(), fd)).toThrow(/Pipe transport is for pipes\/sockets only \(fd \d+ is a regular file/);
  });

  it('refuses a closed descriptor, a non-stream and a bad factory, naming them', () => {
    const loop = newLoop();
    // A number far above any descriptor this process opens (a just-closed one could be reused by another thread).
    const fd = 987_654;
    expect(() => connectReadPipe(loop, () => new Recorder(), fd)).toThrow(/is not an open file descriptor/);
    expect(() => connectReadPipe(loop, () => new Recorder(), 'fifo' as unknown as number)).toThrow(/pipe must be a file descriptor number or a Node Readable stream/);
    expect(() => connectWritePipe(loop, () => new Recorder(), -1)).toThrow(/file descriptor \(an integer >= 0\)/);
    expect(() => connectReadPipe(loop, 5 as unknown as () => Recorder, 0)).toThrow(/protocolFactory must be a function/);
    expect(() => connectWritePipe(loop, (() => null) as unknown as () => Recorder, process.stdout)).toThrow(/protocolFactory must return a protocol/);
  });
});

describe('loop.connectReadPipe / loop.connectWritePipe', () => {
  it('are installed by importing @aioloop/net', async () => {
    await import('../src/index.js');
    const loop = newLoop();
    const child = track(spawn('/bin/cat', [], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const text = await loop.runUntilComplete(async () => {
      const [, readProto] = await loop.connectReadPipe(() => new Recorder(), child.stdout!);
      const [writer] = await loop.connectWritePipe(() => new Recorder(), child.stdin!);
      writer.write(Buffer.from('via the loop'));
      writer.close();
      await readProto.lost;
      return readProto.text();
    });
    expect(text).toBe('via the loop');
  });
});

describe('write pipe transports notice the reader closing (asyncio watches the fd for readability)', () => {
  it('nothing buffered: connectionLost(null) as soon as the FIFO reader closes, without a write', async () => {
    const loop = newLoop();
    const [readFd, writeFd] = fifoEnds();
    const lostWith = await loop.runUntilComplete(async () => {
      const [writer, proto] = await connectWritePipe(loop, () => new Recorder(), writeFd);
      writer.write(Buffer.from('read before the close'));
      await sleep(0.05);
      expect(writer.getWriteBufferSize()).toBe(0);
      closeSync(readFd);
      await proto.lost;
      return proto.lostWith;
    });
    expect(lostWith).toBeNull();
  });

  it('data buffered: a broken pipe (EPIPE) when the reader closes', async () => {
    const loop = newLoop();
    const [readFd, writeFd] = fifoEnds();
    const lostWith = await loop.runUntilComplete(async () => {
      const [writer, proto] = await connectWritePipe(loop, () => new Recorder(), writeFd);
      // Fill the pipe until the transport holds bytes (no guess of the pipe's size).
      for (let i = 0; i < 1000 && writer.getWriteBufferSize() === 0; i++) {
        writer.write(Buffer.alloc(64 * 1024, 1));
        await sleep(0);
      }
      expect(writer.getWriteBufferSize()).toBeGreaterThan(0);
      closeSync(readFd);
      await proto.lost;
      return proto.lostWith;
    });
    expect(lostWith).toMatchObject({ code: 'EPIPE' });
  });

  it('a child process reading the pipe exits: connectionLost(null)', async () => {
    const loop = newLoop();
    const child = track(spawn('/bin/sh', ['-c', 'exec head -c 5 > /dev/null'], { stdio: ['pipe', 'ignore', 'inherit'] }));
    const lostWith = await loop.runUntilComplete(async () => {
      const [writer, proto] = await connectWritePipe(loop, () => new Recorder(), child.stdin!);
      writer.write(Buffer.from('12345'));
      await proto.lost;
      return proto.lostWith;
    });
    expect(lostWith).toBeNull();
  });

  it('the watch keeps no extra reference to the pipe: the reader sees EOF after close()', async () => {
    const loop = newLoop();
    const [readFd, writeFd] = fifoEnds();
    const events = await loop.runUntilComplete(async () => {
      const [, readProto] = await connectReadPipe(loop, () => new Recorder(), readFd);
      const [writer] = await connectWritePipe(loop, () => new Recorder(), writeFd);
      writer.write(Buffer.from('bye'));
      writer.close();
      await readProto.lost;
      return readProto.events;
    });
    expect(events).toEqual(['made', 'data', 'eof', 'lost']);
  });
});
