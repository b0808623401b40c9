import { FlowControlTransport, toBytes } from '@aioloop/core';
import type { BytesLike, DatagramAddress, DatagramProtocolLike, DatagramTransport, EventLoop, Future } from '@aioloop/core';
import { describeValue } from './describe.js';
import { callSoonUnchecked } from '@aioloop/core/internal';
import { systemError } from './memory-stream.js';

/** An IP-style datagram address: `[host, port]`. */
export type HostPort = readonly [host: string, port: number];

/** @internal A stable key for an address. */
export function addressKey(addr: DatagramAddress): string {
  return typeof addr === 'string' ? addr : `${addr[0]}:${addr[1]}`;
}

/** Carries datagrams between in-memory datagram endpoints. */
export interface DatagramFabric {
  /**
   * Sends `data` from `from` (at its local address) to `to`. Returns `true`
   * when it was sent (even if lost on the way), or the errno code of the ICMP
   * error that comes back at once: `'ECONNREFUSED'` when nobody listens there,
   * `'EHOSTUNREACH'` when the host is down. A connected endpoint then gets
   * `errorReceived()` with that error, as a connected UDP socket does.
   */
  route(from: MemoryDatagramTransport, to: DatagramAddress, data: Buffer): true | 'ECONNREFUSED' | 'EHOSTUNREACH';
  /** The endpoint closed: forget its address. */
  unbind(endpoint: MemoryDatagramTransport): void;
}

/** Options for an in-memory datagram endpoint. */
export interface MemoryDatagramOptions {
  /** Write-buffer high-water mark in bytes (default 64 KiB). Datagrams wait in the buffer until the next loop iteration. */
  highWater?: number;
  /** Low-water mark (default high/4). */
  lowWater?: number;
  /** The peer address of a connected endpoint: `sendto` without an address goes there, and only its datagrams are received. */
  remoteAddr?: DatagramAddress;
}

function sameAddress(a: DatagramAddress, b: DatagramAddress): boolean {
  return addressKey(a) === addressKey(b);
}

/**
 * An in-memory datagram endpoint (asyncio DatagramTransport). Datagrams sent
 * in one loop iteration wait in the write buffer (so `pauseWriting()` fires
 * when a burst crosses the high-water mark) and leave together at the start
 * of the next; delivery goes through a {@link DatagramFabric}, which may add
 * latency, loss and reordering.
 */
export class MemoryDatagramTransport extends FlowControlTransport<DatagramProtocolLike> implements DatagramTransport {
  private readonly eventLoop: EventLoop;
  private readonly fabric: DatagramFabric;
  /** The local address. */
  readonly localAddr: DatagramAddress;
  /** The connected peer, if any. */
  readonly remoteAddr: DatagramAddress | undefined;
  private queue: { data: Buffer; addr: DatagramAddress }[] = [];
  private queued = 0;
  private flushScheduled = false;
  private lostScheduled = false;

  constructor(loop: EventLoop, protocol: DatagramProtocolLike, fabric: DatagramFabric, localAddr: DatagramAddress, options: MemoryDatagramOptions = {}) {
    super(loop, protocol);
    this.eventLoop = loop;
    this.fabric = fabric;
    this.localAddr = localAddr;
    this.remoteAddr = options.remoteAddr;
    if (options.highWater !== undefined || options.lowWater !== undefined) this.setWriteBufferLimits(options.highWater, options.lowWater);
  }

  /** @internal */
  _connectionMade(): void {
    this.protocol.connectionMade(this);
  }

  sendto(data: BytesLike, addr?: DatagramAddress): void {
    const bytes = toBytes(data, 'sendto');
    let target: DatagramAddress;
    if (addr === undefined || addr === null) {
      if (this.remoteAddr === undefined) {
        throw new TypeError('sendto(): addr is required on an endpoint created without remoteAddr (give [host, port])');
      }
      target = this.remoteAddr;
    } else {
      checkAddress(addr, 'sendto(): addr');
      if (this.remoteAddr !== undefined && !sameAddress(addr, this.remoteAddr)) {
        throw new TypeError(`sendto(): this endpoint is connected to ${JSON.stringify(this.remoteAddr)}; addr must be omitted or equal to it, got ${JSON.stringify(addr)}`);
      }
      target = addr;
    }
    if (this.isClosing()) return; // asyncio ignores sends once the transport is closing
    const copy = Buffer.from(bytes);
    this.queue.push({ data: copy, addr: target });
    this.queued += copy.byteLength;
    this.maybePauseProtocol();
    this.scheduleFlush();
  }

  getWriteBufferSize(): number {
    return this.queued;
  }

  close(): void {
    if (!this.beginClosing()) return;
    this.fabric.unbind(this);
    if (this.queued === 0) this.scheduleLost(null);
  }

  abort(): void {
    this.queue = [];
    this.queued = 0;
    if (this.beginClosing()) this.fabric.unbind(this);
    this.scheduleLost(null);
  }

  /** `'sockname'`: the local address; `'peername'`: the connected peer, if any. */
  protected override extraInfo(name: string): unknown {
    if (name === 'sockname') return this.localAddr;
    if (name === 'peername') return this.remoteAddr;
    return undefined;
  }

  override   toString(): string {
    return `<MemoryDatagramTransport ${JSON.stringify(this.localAddr)}${this.isClosing() ? ' closing' : ''}>`;
  }

  /** @internal A datagram arrived from `from` (called as a loop callback). */
  _deliver(data: Buffer, from: DatagramAddress): void {
    if (this.isClosing()) return;
    if (this.remoteAddr !== undefined && !sameAddress(from, this.remoteAddr)) return;
    try {
      this.protocol.datagramReceived(data, from);
    } catch (exception) {
      this.eventLoop.callExceptionHandler({ message: 'protocol.datagramReceived() call failed.', exception, transport: this, protocol: this.protocol });
    }
  }

  /** @internal An error for this endpoint (ICMP-like), delivered with errorReceived. */
  _error(exc: Error): void {
    if (this.isClosing()) return;
    try {
      this.protocol.errorReceived(exc);
    } catch (exception) {
      this.eventLoop.callExceptionHandler({ message: 'protocol.errorReceived() call failed.', exception, transport: this, protocol: this.protocol });
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    callSoonUnchecked(this.eventLoop, () => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    this.queued = 0;
    for (const { data, addr } of queue) {
      const routed = this.fabric.route(this, addr, data);
      if (routed !== true && this.remoteAddr !== undefined) {
        const message = routed === 'ECONNREFUSED' ? 'connection refused' : 'no route to host';
        callSoonUnchecked(this.eventLoop, () => this._error(systemError(routed, message, 'recvfrom')));
      }
    }
    this.maybeResumeProtocol();
    if (this.isClosing()) this.scheduleLost(null);
  }

  private scheduleLost(exc: Error | null): void {
    if (this.lostScheduled) return;
    this.lostScheduled = true;
    callSoonUnchecked(this.eventLoop, () => {
      try {
        this.protocol.connectionLost(exc);
      } catch (exception) {
        this.eventLoop.callExceptionHandler({ message: 'protocol.connectionLost() call failed.', exception, transport: this, protocol: this.protocol });
      }
    });
  }
}

/** @internal Validates a datagram address argument. */
export function checkAddress(addr: unknown, where: string): asserts addr is DatagramAddress {
  if (typeof addr === 'string') return;
  if (Array.isArray(addr) && typeof addr[0] === 'string' && typeof addr[1] === 'number' && Number.isInteger(addr[1]) && addr[1] >= 0 && addr[1] <= 65535) return;
  throw new TypeError(`${where} must be [host, port] (port a whole number 0-65535) or a path string, got ${describeValue(addr)}`);
}

/** Options for {@link createDatagramPair}. */
export interface DatagramPairOptions {
  /** The two endpoints' addresses (default `[['memory-a', 1], ['memory-b', 2]]`). */
  addresses?: readonly [DatagramAddress, DatagramAddress];
  /** Connect each endpoint to the other (default true): `sendto(data)` needs no address. */
  connected?: boolean;
  /** Write-buffer high-water mark of both endpoints. */
  highWater?: number;
  /** Low-water mark of both endpoints. */
  lowWater?: number;
}

/** A pair of connected datagram endpoints with their protocols. */
export type DatagramPair<A, B> = [a: [MemoryDatagramTransport, A], b: [MemoryDatagramTransport, B]];

/**
 * Two in-memory datagram endpoints that reach each other. Datagrams arrive
 * in order, one loop iteration after they leave the write buffer; a datagram
 * sent after the receiver closed is lost (a connected sender gets
 * `errorReceived(ECONNREFUSED)`).
 */
export function createDatagramPair<A extends DatagramProtocolLike, B extends DatagramProtocolLike>(
  loop: EventLoop,
  factoryA: () => A,
  factoryB: () => B,
  options: DatagramPairOptions = {},
): Future<DatagramPair<A, B>> {
  if (typeof factoryA !== 'function' || typeof factoryB !== 'function') {
    throw new TypeError(`createDatagramPair(loop, factoryA, factoryB): both protocol factories must be functions, got ${describeValue(factoryA)} and ${describeValue(factoryB)}`);
  }
  const [addrA, addrB] = options.addresses ?? [['memory-a', 1] as const, ['memory-b', 2] as const];
  checkAddress(addrA, 'createDatagramPair(): addresses[0]');
  checkAddress(addrB, 'createDatagramPair(): addresses[1]');
  const connected = options.connected ?? true;
  const bound = new Map<string, MemoryDatagramTransport>();
  const fabric: DatagramFabric = {
    route(from, to, data) {
      const target = bound.get(addressKey(to));
      if (target === undefined) return 'ECONNREFUSED';
      callSoonUnchecked(loop, () => target._deliver(data, from.localAddr));
      return true;
    },
    unbind(endpoint) {
      const key = addressKey(endpoint.localAddr);
      if (bound.get(key) === endpoint) bound.delete(key);
    },
  };
  const protoA = factoryA();
  const protoB = factoryB();
  const common = { highWater: options.highWater, lowWater: options.lowWater };
  const a = new MemoryDatagramTransport(loop, protoA, fabric, addrA, { ...common, remoteAddr: connected ? addrB : undefined });
  const b = new MemoryDatagramTransport(loop, protoB, fabric, addrB, { ...common, remoteAddr: connected ? addrA : undefined });
  bound.set(addressKey(addrA), a);
  bound.set(addressKey(addrB), b);
  const future = loop.createFuture<DatagramPair<A, B>>();
  callSoonUnchecked(loop, () => a._connectionMade());
  callSoonUnchecked(loop, () => b._connectionMade());
  callSoonUnchecked(loop, () => {
    if (!future.done()) future.setResult([[a, protoA], [b, protoB]]);
  });
  return future;
}
