import { afterEach, describe, expect, it } from 'vitest';
import { BufferedProtocol, EventLoop, Protocol, type Transport } from '@aioloop/core';
import {
  MockTransport,
  ProtocolAssertionError,
  RecordingProtocol,
  TestLoop,
  assertCalls,
  assertConnectionLostOnce,
  assertEvents,
  assertReceived,
  assertWritten,
} from '../src/index.js';

const loops: EventLoop[] = [];
afterEach(() => {
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

/** A tiny protocol under test: answers each line "PING" with "PONG", closes on "QUIT". */
class PingProtocol extends Protocol {
  transport: Transport | null = null;
  private buffer = '';
  paused = false;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.buffer += data.toString();
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line === 'PING') this.transport?.write(Buffer.from('PONG\n'));
      if (line === 'QUIT') this.transport?.close();
    }
  }
  override eofReceived(): boolean {
    this.transport?.write(Buffer.from('BYE\n'));
    return true;
  }
  override pauseWriting(): void {
    this.paused = true;
  }
  override resumeWriting(): void {
    this.paused = false;
  }
}

describe('MockTransport', () => {
  it('records what a protocol writes and closes while the test drives its callbacks', () => {
    const protocol = new PingProtocol();
    const transport = new MockTransport({ extra: { peername: ['192.0.2.7', 4000] } }).connect(protocol);
    expect(protocol.transport).toBe(transport);
    transport.receive('PI');
    transport.receive('NG\nPING\n');
    assertWritten(transport, 'PONG\nPONG\n');
    expect(transport.writes.length).toBe(2);
    expect(transport.receiveEof()).toBe(true);
    expect(transport.isClosing()).toBe(false);
    transport.receive('QUIT\n');
    assertCalls(transport, ['write', 'write', 'write', 'close']);
    expect(transport.isClosing()).toBe(true);
    expect(transport.getExtraInfo('peername')).toEqual(['192.0.2.7', 4000]);
    expect(transport.getExtraInfo('sockname', 'none')).toBe('none');
  });

  it('closes itself when eofReceived returns a falsy value, as real transports do', () => {
    const recorder = new RecordingProtocol();
    const transport = new MockTransport().connect(recorder);
    expect(transport.receiveEof()).toBe(false);
    assertCalls(transport, ['close']);
  });

  it('fires pauseWriting and resumeWriting at the water marks when the test fills the buffer', () => {
    const protocol = new PingProtocol();
    const transport = new MockTransport().connect(protocol);
    transport.setWriteBufferLimits(100, 20);
    expect(transport.getWriteBufferLimits()).toEqual([20, 100]);
    transport.setWriteBufferSize(100);
    expect(protocol.paused).toBe(false);
    transport.setWriteBufferSize(101);
    expect(protocol.paused).toBe(true);
    transport.setWriteBufferSize(21);
    expect(protocol.paused).toBe(true);
    transport.setWriteBufferSize(20);
    expect(protocol.paused).toBe(false);
  });

  it('feeds a BufferedProtocol through getBuffer/bufferUpdated in as many rounds as its buffer needs', () => {
    const got: string[] = [];
    class Small extends BufferedProtocol {
      private readonly buf = new Uint8Array(4);
      getBuffer(): Uint8Array {
        return this.buf;
      }
      bufferUpdated(n: number): void {
        got.push(Buffer.from(this.buf.subarray(0, n)).toString());
      }
    }
    const transport = new MockTransport().connect(new Small());
    transport.receive('abcdefghij');
    expect(got).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('throws on write after writeEof, drops writes after close, and rejects strings', () => {
    const transport = new MockTransport().connect(new RecordingProtocol());
    expect(() => transport.write('x' as unknown as Uint8Array)).toThrow(/data must be bytes .* got a string/);
    transport.writeEof();
    expect(() => transport.write(Buffer.from('x'))).toThrow(/after writeEof/);
    const other = new MockTransport().connect(new RecordingProtocol());
    other.close();
    other.write(Buffer.from('late'));
    expect(other.writes).toEqual([]);
    expect(other.writesAfterClose).toBe(1);
  });

  it('calls connectionLost only once and explains a missing protocol', () => {
    const recorder = new RecordingProtocol();
    const transport = new MockTransport().connect(recorder);
    transport.loseConnection(new Error('boom'));
    transport.loseConnection(null);
    assertConnectionLostOnce(recorder, /boom/);
    expect(() => new MockTransport().receive('x')).toThrow(/no protocol; pass \{ protocol \} or call connect\(protocol\) first/);
  });
});

describe('RecordingProtocol', () => {
  it('stamps each callback with the loop time it arrived at', async () => {
    const loop = new TestLoop();
    loops.push(loop);
    const recorder = new RecordingProtocol({ loop });
    const transport = new MockTransport({ loop });
    await loop.runUntilComplete(async () => {
      transport.connect(recorder);
      loop.callLater(2, () => transport.receive('hi'));
      loop.callLater(5, () => transport.loseConnection());
      await recorder.waitFor('connectionLost');
    });
    expect(recorder.events.map((e) => [e.type, e.time])).toEqual([
      ['connectionMade', 0],
      ['dataReceived', 2],
      ['connectionLost', 5],
    ]);
    expect(recorder.describe()).toContain('2.000s dataReceived 2 bytes "hi"');
    expect(recorder.describe()).toContain('5.000s connectionLost (clean)');
  });

  it('waitFor fails with a TimeoutError that shows the timeline', async () => {
    const loop = new TestLoop();
    loops.push(loop);
    const recorder = new RecordingProtocol({ name: 'client' });
    const error = await loop
      .runUntilComplete(async () => {
        new MockTransport().connect(recorder);
        await recorder.waitFor('eofReceived', 3);
      })
      .catch((e: unknown) => e);
    expect(String(error)).toMatch(/TimeoutError: timed out after 3s waiting for eofReceived on client:\n\s+0\.000s connectionMade/);
  });

  it('waitFor with a predicate resolves once it holds', async () => {
    const loop = new TestLoop();
    loops.push(loop);
    const recorder = new RecordingProtocol();
    const transport = new MockTransport().connect(recorder);
    await loop.runUntilComplete(async () => {
      for (let i = 1; i <= 3; i++) loop.callLater(i, () => transport.receive('abc'));
      await recorder.waitFor((p) => p.receivedBytes >= 9, 10);
      expect(loop.time()).toBe(3);
    });
    assertReceived(recorder, 'abcabcabc');
    assertEvents(recorder, ['connectionMade', 'dataReceived']);
    expect(() => assertEvents(recorder, ['connectionMade', 'dataReceived'], { exact: true })).toThrow(ProtocolAssertionError);
  });
});

describe('assertion helpers', () => {
  it('explain a mismatch with expected and actual side by side', () => {
    const recorder = new RecordingProtocol({ name: 'server' });
    const transport = new MockTransport().connect(recorder);
    transport.receive('hello world');
    expect(() => assertEvents(recorder, ['connectionMade', 'connectionLost'])).toThrow(
      /expected: connectionMade -> connectionLost\n\s+actual:\s+connectionMade -> dataReceived\nserver:/,
    );
    expect(() => assertReceived(recorder, 'hello there')).toThrow(/received bytes differ at offset 6/);
    expect(() => assertConnectionLostOnce(recorder)).toThrow(/connectionLost\(\) was called 0 times, expected exactly once/);
    expect(() => assertWritten(transport, 'x')).toThrow(/written bytes differ/);
    expect(() => assertCalls(transport, ['close'])).toThrow(/expected: close\n\s+actual:\s+\(none\)/);
  });
});
