import { afterEach, describe, expect, it } from 'vitest';
import {
  DatagramProtocol,
  EventLoop,
  Protocol,
  SubprocessProtocol,
  FlowControlTransport,
  isBufferedProtocol,
  toBytes,
  type BaseProtocolLike,
  type ExceptionContext,
} from '../src/index.js';

const loops: EventLoop[] = [];
afterEach(() => {
  for (const loop of loops.splice(0)) loop.close();
});

/** A transport whose write buffer the test sets: the smallest FlowControlTransport. */
class FakeTransport extends FlowControlTransport {
  size = 0;
  closed = false;
  getWriteBufferSize(): number {
    return this.size;
  }
  close(): void {
    this.closed = this.beginClosing();
  }
  protected override extraInfo(name: string): unknown {
    return name === 'sockname' ? 'computed' : undefined;
  }
  /** The buffer grew or shrank to `size`, as a transport's write path and its completions report it. */
  resize(size: number): void {
    const grew = size > this.size;
    this.size = size;
    if (grew) this.maybePauseProtocol();
    else this.maybeResumeProtocol();
  }
  get paused(): boolean {
    return this.protocolPaused;
  }
}

/** A fake write buffer driven by the test, with a protocol recording pause/resume. */
function setup(high?: number, low?: number) {
  const loop = new EventLoop();
  loops.push(loop);
  const calls: string[] = [];
  const protocol: BaseProtocolLike<never> = {
    connectionMade() {},
    connectionLost() {},
    pauseWriting: () => calls.push(`pause@${transport.size}`),
    resumeWriting: () => calls.push(`resume@${transport.size}`),
  };
  const transport = new FakeTransport(loop, protocol);
  if (high !== undefined || low !== undefined) transport.setWriteBufferLimits(high, low);
  const flow = {
    setLimits: (h?: number, l?: number) => transport.setWriteBufferLimits(h, l),
    getLimits: () => transport.getWriteBufferLimits(),
  };
  const grow = (n: number) => transport.resize(transport.size + n);
  const drain = (n: number) => transport.resize(transport.size - n);
  return { loop, calls, flow, grow, drain, protocol, transport };
}

describe('write buffer limits', () => {
  it('default to 64 KiB high and 16 KiB low as asyncio', () => {
    expect(setup().flow.getLimits()).toEqual([16 * 1024, 64 * 1024]);
  });

  it('derive low = high/4 from high alone, and high = 4*low from low alone', () => {
    const { flow } = setup();
    flow.setLimits(1000);
    expect(flow.getLimits()).toEqual([250, 1000]);
    flow.setLimits(undefined, 300);
    expect(flow.getLimits()).toEqual([300, 1200]);
    flow.setLimits(10, 10);
    expect(flow.getLimits()).toEqual([10, 10]);
    flow.setLimits(0);
    expect(flow.getLimits()).toEqual([0, 0]);
  });

  it('reject high < low, negatives and non-integers, keeping the old limits', () => {
    const { flow } = setup(100, 50);
    expect(() => flow.setLimits(10, 20)).toThrow(RangeError);
    expect(() => flow.setLimits(10, 20)).toThrow('high (10) must be >= low (20) must be >= 0');
    expect(() => flow.setLimits(undefined, -4)).toThrow(RangeError);
    expect(() => flow.setLimits(1.5)).toThrow(/whole number of bytes/);
    expect(() => flow.setLimits('1' as never)).toThrow(TypeError);
    expect(flow.getLimits()).toEqual([50, 100]);
  });
});

describe('pauseWriting / resumeWriting', () => {
  it('pause fires once when the buffer grows past high, resume once when it drains to low', () => {
    const { calls, grow, drain } = setup(100, 20);
    grow(100); // at the mark, not over it
    expect(calls).toEqual([]);
    grow(1);
    grow(50); // still over: no second pause
    expect(calls).toEqual(['pause@101']);
    drain(100); // 51 left: above low
    expect(calls).toEqual(['pause@101']);
    drain(31); // 20 left: at low
    expect(calls).toEqual(['pause@101', 'resume@20']);
    drain(20);
    expect(calls).toEqual(['pause@101', 'resume@20']);
    grow(101);
    expect(calls).toEqual(['pause@101', 'resume@20', 'pause@101']);
  });

  it('lowering the limits below the current size pauses at once', () => {
    const { calls, grow, flow, transport } = setup();
    grow(5000);
    expect(calls).toEqual([]);
    flow.setLimits(4000);
    expect(calls).toEqual(['pause@5000']);
    expect(transport.paused).toBe(true);
  });

  it('an exception in pauseWriting or resumeWriting goes to the exception handler', () => {
    const { loop, grow, drain, protocol, transport } = setup(10, 0);
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    protocol.pauseWriting = () => {
      throw new Error('pause broke');
    };
    protocol.resumeWriting = () => {
      throw new Error('resume broke');
    };
    grow(11);
    drain(11);
    expect(contexts.map((c) => c.message)).toEqual(['protocol.pauseWriting() failed', 'protocol.resumeWriting() failed']);
    expect(contexts[0]?.protocol).toBe(protocol);
    expect(contexts[0]?.transport).toBe(transport);
  });
});

describe('FlowControlTransport without a loop of its own', () => {
  it('reports a throwing callback to the loop running at that moment, and throws when none runs', async () => {
    const loop = new EventLoop();
    loops.push(loop);
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    const protocol: BaseProtocolLike<never> = {
      connectionMade() {},
      connectionLost() {},
      pauseWriting: () => {
        throw new Error('boom');
      },
      resumeWriting() {},
    };
    const t = new FakeTransport(null, protocol);
    t.setWriteBufferLimits(10);
    await loop.runUntilComplete(async () => t.resize(11));
    expect(contexts.map((c) => c.message)).toEqual(['protocol.pauseWriting() failed']);
    t.resize(0);
    expect(() => t.resize(11)).toThrow(/protocol.pauseWriting\(\) failed and no loop is running/);
  });
});

describe('AbstractTransport', () => {
  const protocol: BaseProtocolLike<never> = { connectionMade() {}, connectionLost() {}, pauseWriting() {}, resumeWriting() {} };

  it('answers extra info from the given entries first, then from the subclass, then the default', () => {
    const t = new FakeTransport(null, protocol, { peername: ['127.0.0.1', 1], sockname: 'given' });
    expect(t.getExtraInfo('peername')).toEqual(['127.0.0.1', 1]);
    expect(t.getExtraInfo('sockname')).toBe('given');
    expect(new FakeTransport(null, protocol).getExtraInfo('sockname')).toBe('computed');
    expect(t.getExtraInfo('no-such-key', 'fallback')).toBe('fallback');
    expect(t.getExtraInfo('no-such-key')).toBeUndefined();
  });

  it('switches protocols with a check, and closes once', () => {
    const t = new FakeTransport(null, protocol);
    const other = { ...protocol };
    t.setProtocol(other);
    expect(t.getProtocol()).toBe(other);
    expect(() => t.setProtocol({} as never)).toThrow(/setProtocol\(\): protocol must be a protocol object/);
    expect(t.getProtocol()).toBe(other);
    expect(t.isClosing()).toBe(false);
    t.close();
    expect(t.closed).toBe(true);
    t.close();
    expect(t.closed).toBe(false);
    expect(t.isClosing()).toBe(true);
  });
});

describe('protocol base classes and helpers', () => {
  it('base classes have asyncio no-op defaults', () => {
    const p = new Protocol();
    expect(p.eofReceived()).toBeUndefined();
    expect(() => p.dataReceived(Buffer.from('x'))).not.toThrow();
    expect(() => new DatagramProtocol().errorReceived(new Error())).not.toThrow();
    expect(() => new SubprocessProtocol().processExited()).not.toThrow();
    expect(isBufferedProtocol(p)).toBe(false);
    expect(isBufferedProtocol({ getBuffer: () => new Uint8Array(1), bufferUpdated() {} })).toBe(true);
  });

  it('toBytes accepts bytes views without copying and rejects strings clearly', () => {
    const buf = Buffer.from('abc');
    expect(toBytes(buf)).toBe(buf);
    const view = new DataView(new ArrayBuffer(8), 2, 4);
    const bytes = toBytes(view);
    expect(bytes.byteOffset).toBe(2);
    expect(bytes.byteLength).toBe(4);
    expect(bytes.buffer).toBe(view.buffer);
    expect(toBytes(new ArrayBuffer(3)).length).toBe(3);
    expect(() => toBytes('text', 'write')).toThrow(/write\(\): data must be bytes.*got a string \(encode it first/);
    expect(() => toBytes(42)).toThrow(/got number/);
    expect(() => toBytes(null)).toThrow(/got null/);
  });
});

describe('describeValue', () => {
  it('names any value briefly for error messages', async () => {
    const { describeValue } = await import('../src/index.js');
    expect(describeValue(42)).toBe('42');
    expect(describeValue('x'.repeat(50))).toBe(`"${'x'.repeat(37)}..."`);
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(function named() {})).toBe('function named');
    expect(describeValue(async () => {})).toBe('async function <anonymous>');
    expect(describeValue(Buffer.alloc(3))).toBe('Buffer(3)');
    expect(describeValue([1, 2])).toBe('array(2)');
    expect(describeValue(new Map())).toBe('Map object');
    expect(describeValue({})).toBe('object');
  });
});

describe('checkProtocol', () => {
  it('accepts a protocol and names what it got otherwise', async () => {
    const { checkProtocol } = await import('../src/index.js');
    expect(() => checkProtocol(new Protocol(), 'setProtocol()')).not.toThrow();
    expect(() => checkProtocol(null, 'setProtocol()')).toThrow(/setProtocol\(\): protocol must be a protocol object .* got null/);
    expect(() => checkProtocol({ dataReceived() {} }, 'new MyTransport()')).toThrow(/new MyTransport\(\).*got object/);
  });
});
