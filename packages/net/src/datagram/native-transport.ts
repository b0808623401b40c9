/**
 * The datagram transport over a native non-blocking socket (UDP or AF_UNIX
 * SOCK_DGRAM), as asyncio's `_SelectorDatagramTransport`: a sendto tries the
 * socket at once and queues only what would block (the queue counts in the
 * write buffer and is sent when the socket turns writable); reading starts
 * after `connectionMade` and takes up to 64 datagrams per `recvmmsg(2)`.
 */
import type { NativeAddress, NativeBinding, NativePoll } from '@aioloop/native-sockets';
import type { DatagramAddress, DatagramProtocolLike, EventLoop } from '@aioloop/core';
import { onLoopClose } from '@aioloop/core/internal';
import { AF_UNIX } from '../dns.js';
import { systemError } from '../native/errors.js';
import { checkAddress, EAGAIN, type Socket } from '../native/socket.js';
import { checkIpSendAddress, DATAGRAM_HEADER_SIZE } from './address.js';
import { DatagramTransportBase, type DatagramTransportInit } from './transport-base.js';

const UV_READABLE = 1;
const UV_WRITABLE = 2;
/** Datagrams per recvmmsg call (the binding's limit). */
const BATCH = 64;
/** recvmmsg calls per readiness event, so one busy socket cannot hold the thread. */
const BATCHES_PER_EVENT = 4;
/** Bytes reserved per sender address by the binding. */
const SOCKADDR_SLOT = 128;
/** asyncio's `max_size` for one datagram: 256 KiB (more than any UDP datagram). */
const MAX_DATAGRAM = 256 * 1024;

/**
 * Receive buffers shared by every native datagram transport of the thread: a
 * batch is copied out datagram by datagram inside the poll callback, before
 * any other socket reads. The UDP slab holds `BATCH` slots of 64 KiB (a UDP
 * datagram's maximum); AF_UNIX sockets read one datagram at a time into a
 * buffer of `MAX_DATAGRAM` bytes.
 */
const UDP_SLOT = 65536;
let slab: Uint8Array | null = null;
let bigSlot: Uint8Array | null = null;
const meta = new Int32Array(BATCH * 2);
const addrs = new Uint8Array(BATCH * SOCKADDR_SLOT);

const kTransport = Symbol('@aioloop/net.nativeDatagramTransport');

/** The open native endpoints of each loop: a loop that closes releases their polls and sockets. */
const openByLoop = new WeakMap<EventLoop, Set<NativeDatagramTransport>>();
onLoopClose((loop) => {
  const open = openByLoop.get(loop);
  if (open === undefined) return;
  openByLoop.delete(loop);
  for (const transport of open) transport._releaseOnLoopClose();
});
type PollWithTransport = NativePoll & { [kTransport]?: NativeDatagramTransport };

function onPoll(this: PollWithTransport, status: number, events: number): void {
  const transport = this[kTransport];
  if (transport !== undefined) transport._onPoll(status, events);
}

/** A datagram endpoint over a native `Socket` (set non-blocking by the caller). */
export class NativeDatagramTransport extends DatagramTransportBase {
  /** @internal */ readonly _sock: Socket;
  private readonly fd: number;
  private readonly b: NativeBinding;
  private readonly family: number;
  private poll: PollWithTransport | null = null;
  private events = 0;
  /** Datagrams waiting for the socket to turn writable: data, address (null: connected), ... */
  private queue: (Uint8Array | DatagramAddress | null)[] = [];
  private queueHead = 0;
  private socketClosed = false;
  /** The last sender, raw and decoded: the same sender is decoded once. */
  private lastRaw = new Uint8Array(SOCKADDR_SLOT);
  private lastRawLength = -1;
  private lastAddr: DatagramAddress = '';

  /** @internal */
  constructor(loop: EventLoop, sock: Socket, protocol: DatagramProtocolLike, init: DatagramTransportInit) {
    super(loop, protocol, init);
    this._sock = sock;
    this.fd = sock.fileno();
    this.b = sock._b;
    this.family = sock.family;
    let open = openByLoop.get(loop);
    if (open === undefined) openByLoop.set(loop, (open = new Set()));
    open.add(this);
  }

  /** @internal The loop closed with this endpoint open: nothing can run on it any more, so the socket is released. */
  _releaseOnLoopClose(): void {
    this._closeSocket();
  }

  protected _checkSendAddress(addr: unknown): void {
    if (this.family === AF_UNIX) checkAddress(AF_UNIX, addr, 'sendto');
    else checkIpSendAddress(addr);
  }

  protected override _onStarted(): void {
    this.watch(UV_READABLE);
  }

  protected _send(data: Uint8Array, addr: DatagramAddress | null): void {
    if (this.queue.length === this.queueHead) {
      const rc = addr === null ? this.b.send(this.fd, data, 0) : this.b.sendto(this.fd, data, 0, this.family, addr as NativeAddress);
      if (rc >= 0) return;
      if (rc !== EAGAIN) {
        this._onError(systemError(rc, addr === null ? 'send' : 'sendto', addr ?? undefined));
        return;
      }
      this.watch(this.events | UV_WRITABLE);
    }
    this.queue.push(data, addr);
    this._queued(data.byteLength + DATAGRAM_HEADER_SIZE);
  }

  protected _stopReading(): void {
    this.watch(this.events & ~UV_READABLE);
  }

  protected _closeSocket(): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    openByLoop.get(this._eventLoop)?.delete(this);
    this.queue = [];
    this.queueHead = 0;
    const poll = this.poll;
    this.poll = null;
    if (poll !== null) {
      poll[kTransport] = undefined;
      poll.close();
    }
    this._sock.close();
  }

  /** @internal The poll callback (Node's poll phase). */
  _onPoll(status: number, events: number): void {
    // status < 0: libuv saw POLLERR and stopped the handle; the syscalls below report the error.
    if (status < 0 || (events & UV_READABLE) !== 0) this.readReady();
    if (status < 0 || (events & UV_WRITABLE) !== 0) this.writeReady();
    if (status < 0 && this.poll !== null) {
      const wanted = this.events;
      this.events = 0;
      this.watch(wanted);
    }
  }

  private watch(events: number): void {
    if (this.socketClosed) return;
    if (events === this.events && this.poll !== null) return;
    this.events = events;
    if (this.poll === null) {
      if (events === 0) return;
      this.poll = new this.b.Poll(this.fd, onPoll, false) as PollWithTransport;
      this.poll[kTransport] = this;
    }
    if (events === 0) this.poll.stop();
    else {
      const rc = this.poll.start(events);
      if (rc < 0) this._forceClose(systemError(rc, 'uv_poll_start'));
    }
  }

  private readReady(): void {
    if (this.family === AF_UNIX) {
      this.readSingly();
      return;
    }
    for (let round = 0; round < BATCHES_PER_EVENT; round++) {
      if (this.isClosing()) return;
      const buffer = (slab ??= new Uint8Array(BATCH * UDP_SLOT));
      const count = this.b.recvmmsg(this.fd, buffer, UDP_SLOT, BATCH, meta, addrs);
      if (count === EAGAIN) return;
      if (count < 0) {
        this._onError(systemError(count, 'recvmmsg'));
        return;
      }
      for (let i = 0; i < count; i++) {
        const length = meta[2 * i] as number;
        const data = Buffer.allocUnsafe(length);
        data.set(buffer.subarray(i * UDP_SLOT, i * UDP_SLOT + length));
        this._onDatagram(data, this.senderOf(i));
      }
      if (count < BATCH) return;
    }
  }

  /** AF_UNIX datagrams may be larger than a batch slot: one recvfrom(2) each, up to asyncio's max_size. */
  private readSingly(): void {
    const buffer = (bigSlot ??= new Uint8Array(MAX_DATAGRAM));
    for (let i = 0; i < BATCH && !this.isClosing(); i++) {
      const r = this.b.recvfrom(this.fd, buffer, 0);
      if (r === EAGAIN) return;
      if (typeof r === 'number') {
        this._onError(systemError(r, 'recvfrom'));
        return;
      }
      const sender = r[1];
      this._onDatagram(Buffer.from(buffer.subarray(0, r[0])), sender === null ? '' : (sender as string));
    }
  }

  private senderOf(i: number): DatagramAddress {
    const length = meta[2 * i + 1] as number;
    const offset = i * SOCKADDR_SLOT;
    if (length === this.lastRawLength) {
      let same = true;
      for (let k = 0; k < length; k++) {
        if (addrs[offset + k] !== this.lastRaw[k]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastAddr;
    }
    const decoded = this.b.decodeSockaddr(addrs, offset, length);
    const addr: DatagramAddress = typeof decoded === 'number' || decoded === null ? '' : typeof decoded === 'string' ? decoded : Object.freeze(decoded);
    this.lastRaw.set(addrs.subarray(offset, offset + length));
    this.lastRawLength = length;
    this.lastAddr = addr;
    return addr;
  }

  private writeReady(): void {
    const queue = this.queue;
    while (this.queueHead < queue.length && !this.socketClosed) {
      const data = queue[this.queueHead] as Uint8Array;
      const addr = queue[this.queueHead + 1] as DatagramAddress | null;
      const rc = addr === null ? this.b.send(this.fd, data, 0) : this.b.sendto(this.fd, data, 0, this.family, addr as NativeAddress);
      if (rc === EAGAIN) return;
      queue[this.queueHead] = null;
      queue[this.queueHead + 1] = null;
      this.queueHead += 2;
      this._sendDone(data.byteLength + DATAGRAM_HEADER_SIZE, rc < 0 ? systemError(rc, addr === null ? 'send' : 'sendto', addr ?? undefined) : null);
    }
    if (this.socketClosed) return;
    this.queue = [];
    this.queueHead = 0;
    this.watch(this.events & ~UV_WRITABLE);
  }
}
