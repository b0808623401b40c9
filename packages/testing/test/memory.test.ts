import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '@aioloop/core';
import { RecordingDatagramProtocol, RecordingProtocol, TestLoop, createDatagramPair, createStreamPair } from '../src/index.js';

const loops: TestLoop[] = [];
function newLoop(): TestLoop {
  const loop = new TestLoop();
  loops.push(loop);
  return loop;
}
afterEach(() => {
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

describe('createStreamPair', () => {
  it('calls connectionMade on both ends before resolving, and answers sockname/peername', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [[a, pa], [b, pb]] = await createStreamPair(loop, () => new RecordingProtocol(), () => new RecordingProtocol(), { names: ['left', 'right'] });
      expect(pa.types()).toEqual(['connectionMade']);
      expect(pb.types()).toEqual(['connectionMade']);
      expect(a.getExtraInfo('sockname')).toBe('left');
      expect(a.getExtraInfo('peername')).toBe('right');
      expect(b.getExtraInfo('peername')).toBe('left');
      a.close();
      b.close();
    });
  });

  it('makes pauseWriting fire early with a small receive buffer when the reader pauses', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [[a, pa], [b, pb]] = await createStreamPair(loop, () => new RecordingProtocol(), () => new RecordingProtocol(), {
        bufferSize: 1000,
        highWater: 2000,
      });
      b.pauseReading();
      a.write(Buffer.alloc(1000));
      expect(a.getWriteBufferSize()).toBe(0);
      a.write(Buffer.alloc(2000));
      expect(a.getWriteBufferSize()).toBe(2000);
      expect(pa.count('pauseWriting')).toBe(0);
      a.write(Buffer.alloc(1));
      expect(pa.count('pauseWriting')).toBe(1);
      expect(pa.first('pauseWriting')?.writeBufferSize).toBe(2001);
      b.resumeReading();
      await pa.waitFor('resumeWriting', 5);
      await pb.waitFor((p) => p.receivedBytes >= 3001, 5);
      expect(a.getWriteBufferSize()).toBe(0);
      a.close();
    });
  });

  it('delivers at most maxReadSize bytes per dataReceived', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [[a], [, pb]] = await createStreamPair(loop, () => new RecordingProtocol(), () => new RecordingProtocol(), { maxReadSize: 100 });
      a.write(Buffer.alloc(350, 1));
      await pb.waitFor((p) => p.receivedBytes >= 350, 5);
      expect(pb.events.filter((e) => e.type === 'dataReceived').map((e) => e.data?.length)).toEqual([100, 100, 100, 50]);
      a.close();
    });
  });

  it('answers writes to an end that is gone with a reset (ECONNRESET) on the writer', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [[a, pa], [b, pb]] = await createStreamPair(loop, () => new RecordingProtocol({ eofReturn: true }), () => new RecordingProtocol());
      b.abort();
      await pa.waitFor('eofReceived', 5);
      await pb.waitFor('connectionLost', 5);
      a.write(Buffer.from('anyone there?'));
      await pa.waitFor('connectionLost', 5);
      expect((pa.lostError as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    });
  });

  it('an end closed with received bytes unread consumes them, so the writer\'s close() still completes (found by the model test)', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [[a, pa], [b, pb]] = await createStreamPair(loop, () => new RecordingProtocol({ eofReturn: true }), () => new RecordingProtocol(), { bufferSize: 4096 });
      b.pauseReading();
      a.write(Buffer.alloc(20_000)); // 4 KiB reach b's receive buffer; the rest waits in a's write buffer
      await sleep(0.01);
      expect(a.getWriteBufferSize()).toBeGreaterThan(0);
      b.close(); // with the 4 KiB unread
      await pb.waitFor('connectionLost', 5);
      a.close();
      await pa.waitFor('connectionLost', 5);
      expect(a.getWriteBufferSize()).toBe(0);
    });
  });

  it('rejects bad arguments naming them', () => {
    const loop = newLoop();
    expect(() => createStreamPair(loop, null as unknown as () => RecordingProtocol, () => new RecordingProtocol())).toThrow(/both protocol factories must be functions, got null/);
    expect(() => createStreamPair(loop, () => new RecordingProtocol(), () => new RecordingProtocol(), { bufferSize: 0 })).toThrow(/bufferSize must be a whole number >= 1, got 0/);
  });
});

describe('createDatagramPair', () => {
  it('delivers datagrams with boundaries and sender addresses, sendto() without address on connected endpoints', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [[a], [b, pb]] = await createDatagramPair(loop, () => new RecordingDatagramProtocol(), () => new RecordingDatagramProtocol());
      a.sendto(Buffer.from('one'));
      a.sendto(Buffer.from('two'), ['memory-b', 2]);
      expect(() => a.sendto(Buffer.from('x'), ['elsewhere', 9])).toThrow(/connected to \["memory-b",2\]/);
      await pb.waitFor((p) => p.datagrams.length >= 2, 5);
      expect(pb.datagrams.map((d) => [d.data.toString(), d.addr])).toEqual([
        ['one', ['memory-a', 1]],
        ['two', ['memory-a', 1]],
      ]);
      expect(b.getExtraInfo('sockname')).toEqual(['memory-b', 2]);
      expect(b.getExtraInfo('peername')).toEqual(['memory-a', 1]);
      a.close();
      b.close();
    });
  });

  it('holds a burst in the write buffer until the next iteration: pauseWriting, then resumeWriting', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [[a, pa], [b]] = await createDatagramPair(loop, () => new RecordingDatagramProtocol(), () => new RecordingDatagramProtocol(), { highWater: 1000 });
      for (let i = 0; i < 5; i++) a.sendto(Buffer.alloc(300));
      expect(a.getWriteBufferSize()).toBe(1500);
      expect(pa.count('pauseWriting')).toBe(1);
      await sleep(0);
      await sleep(0);
      expect(a.getWriteBufferSize()).toBe(0);
      expect(pa.count('resumeWriting')).toBe(1);
      a.close();
      b.close();
    });
  });

  it('gives a connected sender errorReceived(ECONNREFUSED) once the peer is closed; needs an address when unconnected', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      const [[a, pa], [b]] = await createDatagramPair(loop, () => new RecordingDatagramProtocol(), () => new RecordingDatagramProtocol());
      b.close();
      await sleep(0);
      a.sendto(Buffer.from('hello?'));
      await pa.waitFor('errorReceived', 5);
      expect((pa.first('errorReceived')?.exc as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      a.close();
      const [[c]] = await createDatagramPair(loop, () => new RecordingDatagramProtocol(), () => new RecordingDatagramProtocol(), { connected: false });
      expect(() => c.sendto(Buffer.from('x'))).toThrow(/addr is required/);
      expect(() => c.sendto(Buffer.from('x'), ['h', 70000])).toThrow(/addr must be \[host, port\]/);
      c.close();
    });
  });
});
