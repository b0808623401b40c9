import { describe, expect, it } from 'vitest';
import {
  IncompleteReadError,
  LimitOverrunError,
  NotImplementedError,
  RuntimeError,
  StreamReader,
  StreamReaderProtocol,
  StreamWriter,
  currentTask,
  sleep,
  type EventLoop,
  type ExceptionContext,
  type Transport,
} from '../src/index.js';
import { newLoop } from './support.js';

/** A transport double that records the calls a stream makes. */
class FakeTransport {
  calls: string[] = [];
  written: Buffer[] = [];
  closing = false;
  extra: Record<string, unknown> = {};
  pauseThrows = false;
  write(data: Uint8Array): void {
    this.written.push(Buffer.from(data));
  }
  writelines(list: Iterable<Uint8Array>): void {
    for (const d of list) this.write(d);
  }
  writeEof(): void {
    this.calls.push('writeEof');
  }
  canWriteEof(): boolean {
    return true;
  }
  close(): void {
    this.calls.push('close');
    this.closing = true;
  }
  abort(): void {
    this.close();
  }
  isClosing(): boolean {
    return this.closing;
  }
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return name in this.extra ? this.extra[name] : defaultValue;
  }
  pauseReading(): void {
    if (this.pauseThrows) throw new NotImplementedError('cannot pause');
    this.calls.push('pauseReading');
  }
  resumeReading(): void {
    this.calls.push('resumeReading');
  }
  isReading(): boolean {
    return true;
  }
  asTransport(): Transport {
    return this as unknown as Transport;
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (e: unknown) => e,
  );
}

describe('StreamReader', () => {
  it('defaults to the running loop and 64 KiB; rejects a bad limit, unknown options and a missing loop', async () => {
    const loop = newLoop();
    expect(() => new StreamReader()).toThrow(RuntimeError);
    expect(() => new StreamReader({ loop, limit: 0 })).toThrow(/new StreamReader\(\): limit must be a whole number of bytes > 0/);
    expect(() => new StreamReader({ loop, size: 3 } as never)).toThrow(/unknown option "size"/);
    await loop.runUntilComplete(async () => {
      expect(new StreamReader().limit).toBe(64 * 1024);
    });
  });

  it('readuntil: one separator or an array (the match that ends first wins), IncompleteReadError at EOF', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      reader.feedData(Buffer.from('ab'));
      const pending = reader.readuntil(['XY', 'b\n', 'ab\nQ']);
      await sleep(0);
      reader.feedData(Buffer.from('\nQrest'));
      expect((await pending).toString()).toBe('ab\n');
      await expect(reader.readuntil([])).rejects.toThrow(RangeError);
      await expect(reader.readuntil('')).rejects.toThrow(/at least one byte/);
      await expect(reader.readuntil(5 as never)).rejects.toThrow(TypeError);
      reader.feedEof();
      const error = await rejection(reader.readuntil('\n'));
      expect(error).toBeInstanceOf(IncompleteReadError);
      expect(Buffer.from((error as IncompleteReadError).partial).toString()).toBe('Qrest');
      expect((error as IncompleteReadError).expected).toBe(null);
      expect(reader.atEof()).toBe(true);
    });
  });

  it('LimitOverrunError leaves the bytes buffered; readline drops the long line and throws a RangeError', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop, limit: 4 });
      reader.feedData(Buffer.from('123456789'));
      const error = await rejection(reader.readuntil('\n'));
      expect(error).toBeInstanceOf(LimitOverrunError);
      expect(reader.bufferedSize).toBe(9);
      reader.feedData(Buffer.from('\nok\n'));
      const found = await rejection(reader.readuntil('\n'));
      expect((found as LimitOverrunError).message).toBe('Separator is found, but chunk is longer than limit');
      expect((found as LimitOverrunError).consumed).toBe(9);
      const line = await rejection(reader.readline());
      expect(line).toBeInstanceOf(RangeError);
      expect((line as Error).cause).toBeInstanceOf(LimitOverrunError);
      expect((await reader.readline()).toString()).toBe('ok\n');
    });
  });

  it('read(n), readexactly, setException, one waiter at a time', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const reader = new StreamReader({ loop });
      reader.feedData(Buffer.from('hello'));
      expect((await reader.read(3)).toString()).toBe('hel');
      expect((await reader.read(0)).length).toBe(0);
      expect((await reader.read(10)).toString()).toBe('lo');
      const exact = reader.readexactly(4);
      await sleep(0);
      await expect(reader.read(1)).rejects.toThrow(/read\(\) called while another task is already waiting/);
      reader.feedData(Buffer.from('lolo'));
      expect((await exact).toString()).toBe('lolo');
      const waiting = reader.read(10);
      await sleep(0);
      const boom = new Error('boom');
      reader.setException(boom);
      expect(await rejection(waiting)).toBe(boom);
      expect(await rejection(reader.readline())).toBe(boom);
      expect(reader.exception()).toBe(boom);
      const short = new StreamReader({ loop });
      short.feedData(Buffer.from('ab'));
      short.feedEof();
      const incomplete = await rejection(short.readexactly(3));
      expect((incomplete as IncompleteReadError).expected).toBe(3);
      expect(short.atEof()).toBe(true);
    });
  });

  it('pauses its transport past twice the limit and resumes it at the limit; a transport that cannot pause is forgotten', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const transport = new FakeTransport();
      const reader = new StreamReader({ loop, limit: 10 });
      reader.setTransport(transport.asTransport());
      expect(() => reader.setTransport(transport.asTransport())).toThrow(RuntimeError);
      reader.feedData(Buffer.alloc(20));
      expect(transport.calls).toEqual([]);
      reader.feedData(Buffer.alloc(1));
      expect(transport.calls).toEqual(['pauseReading']);
      await reader.read(5);
      expect(transport.calls).toEqual(['pauseReading']);
      await reader.read(6);
      expect(transport.calls).toEqual(['pauseReading', 'resumeReading']);
      const stubborn = new FakeTransport();
      stubborn.pauseThrows = true;
      const other = new StreamReader({ loop, limit: 1 });
      other.setTransport(stubborn.asTransport());
      other.feedData(Buffer.alloc(5));
      other.feedData(Buffer.alloc(5));
      expect(other.bufferedSize).toBe(10);
    });
  });
});

describe('StreamReaderProtocol and StreamWriter', () => {
  it('a plain callback runs in connectionMade; an async one runs as a task; bytes and EOF reach the reader', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const seen: string[] = [];
      const sync = new StreamReaderProtocol(new StreamReader({ loop }), (reader, writer) => {
        seen.push(`sync ${reader instanceof StreamReader} ${writer instanceof StreamWriter}`);
      });
      sync.connectionMade(new FakeTransport().asTransport());
      expect(seen).toEqual(['sync true true']);

      const transport = new FakeTransport();
      const done = loop.createFuture<string>();
      const protocol = new StreamReaderProtocol(new StreamReader({ loop }), async (reader, writer) => {
        const line = await reader.readline();
        writer.write(Buffer.from(`echo ${line.toString()}`));
        done.setResult(currentTask() === null ? 'no task' : 'in a task');
      });
      protocol.connectionMade(transport.asTransport());
      protocol.dataReceived(Buffer.from('hi\n'));
      expect(protocol.eofReceived()).toBe(true);
      expect(await done).toBe('in a task');
      expect(Buffer.concat(transport.written).toString()).toBe('echo hi\n');

      const tls = new FakeTransport();
      tls.extra.sslcontext = {};
      const overTls = new StreamReaderProtocol(new StreamReader({ loop }));
      overTls.connectionMade(tls.asTransport());
      expect(overTls.eofReceived()).toBe(false);
    });
  });

  it("an async callback's failure is reported as asyncio reports it and closes the transport; cancelling it closes too", async () => {
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l: EventLoop, context: ExceptionContext) => contexts.push(context));
    await loop.runUntilComplete(async () => {
      const transport = new FakeTransport();
      const protocol = new StreamReaderProtocol(new StreamReader({ loop }), async () => {
        throw new Error('handler failed');
      });
      protocol.connectionMade(transport.asTransport());
      for (let i = 0; i < 3; i++) await sleep(0);
      expect(contexts.map((c) => c.message)).toEqual(['Unhandled exception in client_connected_cb']);
      expect(contexts[0]!.transport).toBe(transport);
      expect(transport.calls).toEqual(['close']);

      const other = new FakeTransport();
      let task: ReturnType<typeof currentTask> = null;
      const cancelled = new StreamReaderProtocol(new StreamReader({ loop }), async () => {
        task = currentTask();
        await loop.createFuture<void>();
      });
      cancelled.connectionMade(other.asTransport());
      await sleep(0);
      task!.cancel();
      for (let i = 0; i < 3; i++) await sleep(0);
      expect(other.calls).toEqual(['close']);
      expect(contexts).toHaveLength(1);
    });
  });

  it('a bound async method is a task too; a plain function returning a failing promise is reported and closes the transport', async () => {
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l: EventLoop, context: ExceptionContext) => contexts.push(context));
    await loop.runUntilComplete(async () => {
      const handler = {
        seen: '',
        async handle(this: { seen: string }): Promise<void> {
          this.seen = currentTask() === null ? 'no task' : 'in a task';
        },
      };
      const bound = new StreamReaderProtocol(new StreamReader({ loop }), handler.handle.bind(handler));
      bound.connectionMade(new FakeTransport().asTransport());
      expect(handler.seen).toBe(''); // not started inside connectionMade
      for (let i = 0; i < 3; i++) await sleep(0);
      expect(handler.seen).toBe('in a task');

      const transport = new FakeTransport();
      const promising = new StreamReaderProtocol(new StreamReader({ loop }), () => Promise.reject(new Error('late failure')));
      promising.connectionMade(transport.asTransport());
      for (let i = 0; i < 3; i++) await sleep(0);
      expect(contexts.map((c) => [c.message, (c.exception as Error).message])).toEqual([['Unhandled exception in client_connected_cb', 'late failure']]);
      expect(transport.calls).toEqual(['close']);
    });
  });

  it('drain() waits while paused, wakes on resumeWriting, throws ConnectionResetError after the loss; waitClosed reports the error', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const transport = new FakeTransport();
      const reader = new StreamReader({ loop });
      const protocol = new StreamReaderProtocol(reader, null, loop);
      protocol.connectionMade(transport.asTransport());
      const writer = new StreamWriter(transport.asTransport(), protocol, reader, loop);
      await writer.drain();
      protocol.pauseWriting();
      const draining = loop.createTask(() => writer.drain());
      for (let i = 0; i < 3; i++) await sleep(0);
      expect(draining.done()).toBe(false);
      protocol.resumeWriting();
      await draining;
      protocol.pauseWriting();
      const lost = loop.createTask(() => writer.drain());
      await sleep(0);
      const reset = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      protocol.connectionLost(reset);
      expect(await rejection(Promise.resolve(lost))).toBe(reset);
      expect(await rejection(writer.drain())).toBe(reset); // the reader's exception first, as asyncio
      expect(await rejection(writer.waitClosed())).toBe(reset);
      expect(await rejection(reader.read())).toBe(reset);

      const clean = new FakeTransport();
      const plain = new StreamReaderProtocol(null, null, loop);
      plain.connectionMade(clean.asTransport());
      const w2 = new StreamWriter(clean.asTransport(), plain, null);
      plain.connectionLost(null);
      await w2.waitClosed();
      const error = (await rejection(w2.drain())) as NodeJS.ErrnoException;
      expect(error.name).toBe('ConnectionResetError');
      expect(error.code).toBe('ECONNRESET');
    });
  });

  it('rejects what is not a reader, a callback or a transport', () => {
    const loop = newLoop();
    expect(() => new StreamReaderProtocol({} as never, null, loop)).toThrow(/streamReader must be a StreamReader or null/);
    expect(() => new StreamReaderProtocol(null, 5 as never, loop)).toThrow(/clientConnectedCb must be a function/);
    expect(() => new StreamReaderProtocol(null, () => {}, loop)).toThrow(/needs a streamReader/);
    expect(() => new StreamWriter({} as never, new StreamReaderProtocol(null, null, loop), null)).toThrow(/transport must be a write transport/);
  });
});
