/**
 * The UDP datagram transport over Node's `dgram.Socket`.
 *
 * Two ways to move datagrams, chosen per socket:
 * - **Direct** (used when Node's internals are as expected): the transport
 *   calls the socket's libuv handle itself, as `dgram` does inside. A send is
 *   one `uv_udp_try_send`; when the kernel takes it at once nothing is
 *   queued, counted or called back (and no object is allocated); when libuv
 *   has to queue it, it counts in the write buffer until its completion.
 *   Received datagrams come straight from the handle's callback, without
 *   `dgram`'s event emitter.
 * - **Public `dgram` API** (fallback, and for host names, which `dgram`
 *   resolves): `dgram` queues every send itself (name lookup, then libuv), so
 *   each counts in the write buffer until its callback; the callbacks come in
 *   send order, so a ring of sizes says how much each completion frees.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { DatagramAddress, DatagramProtocolLike, EventLoop } from '@aioloop/core';
import { onLoopClose } from '@aioloop/core/internal';
import { AddressCache, checkIpSendAddress, DATAGRAM_HEADER_SIZE } from './address.js';
import { DatagramTransportBase, type DatagramTransportInit } from './transport-base.js';

/** Where the shared listeners find their transport (on the socket, the handle or a send request). */
const kTransport = Symbol('@aioloop/net.datagramTransport');

/** Node's UDP handle (`UDPWrap`), as dgram uses it. */
interface UdpHandle {
  send(req: SendRequest, list: Uint8Array[], count: number, port: number, address: string, hasCallback: boolean): number;
  send(req: SendRequest, list: Uint8Array[], count: number, hasCallback: boolean): number;
  onmessage: (this: UdpHandle, nread: number, handle: UdpHandle, data: Buffer, rinfo: dgram.RemoteInfo) => void;
  [kTransport]?: DgramTransport;
}

/** Node's `SendWrap`: one per send that libuv queues. */
interface SendRequest {
  oncomplete?: (this: SendRequest, status: number) => void;
  [kTransport]?: DgramTransport;
  size?: number;
  data?: Uint8Array;
}

type SendRequestClass = new () => SendRequest;
type HostSocket = dgram.Socket & { [kTransport]?: DgramTransport };

/** Node's SendWrap class, or null where this Node does not expose it. */
const SendWrap: SendRequestClass | null = (() => {
  try {
    const binding = (process as unknown as { binding(name: string): { SendWrap?: unknown } }).binding('udp_wrap');
    return typeof binding.SendWrap === 'function' ? (binding.SendWrap as SendRequestClass) : null;
  } catch {
    return null;
  }
})();

let directAllowed = true;

/** @internal Tests run every datagram test over both paths: false forces the public dgram API for sockets wrapped afterwards. */
export function _setDirectUdp(allowed: boolean): void {
  directAllowed = allowed;
}

/** The socket's libuv handle if Node's internals look as this module expects, else null. */
function directHandleOf(socket: dgram.Socket): UdpHandle | null {
  if (SendWrap === null || !directAllowed) return null;
  const state = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
  const handle = state === undefined ? undefined : (socket as unknown as Record<symbol, { handle?: UdpHandle } | undefined>)[state]?.handle;
  if (handle === undefined || handle === null || typeof handle.send !== 'function' || typeof handle.onmessage !== 'function' || handle.onmessage.length !== 4) return null;
  return handle;
}

/** A Node-style system error (`code`, `errno`, `syscall`) for a libuv status. */
function systemError(status: number, syscall: string, address?: string, port?: number): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = `Unknown system error ${status}`;
  }
  const where = address === undefined ? '' : ` ${address}:${port}`;
  const error = new Error(`${syscall} ${code}${where}`) as NodeJS.ErrnoException & { address?: string; port?: number };
  error.errno = status;
  error.code = code;
  error.syscall = syscall;
  if (address !== undefined) {
    error.address = address;
    error.port = port;
  }
  return error;
}

function onMessage(this: HostSocket, data: Buffer, rinfo: dgram.RemoteInfo): void {
  const transport = this[kTransport] as DgramTransport;
  transport._onDatagram(data, transport._addresses.get(rinfo.address, rinfo.port));
}

function onError(this: HostSocket, err: Error): void {
  (this[kTransport] as DgramTransport)._onError(err);
}

function onHandleMessage(this: UdpHandle, nread: number, _handle: UdpHandle, data: Buffer, rinfo: dgram.RemoteInfo): void {
  const transport = this[kTransport] as DgramTransport;
  if (nread < 0) transport._onError(systemError(nread, 'recvmsg'));
  else transport._onDatagram(data, transport._addresses.get(rinfo.address, rinfo.port));
}

function onQueuedSendDone(this: SendRequest, status: number): void {
  const transport = this[kTransport] as DgramTransport;
  this.data = undefined;
  transport._sendDone(this.size as number, status < 0 ? systemError(status, 'send') : null);
}

const NO_BYTES = new Uint8Array(0);

/**
 * The open dgram endpoints of each loop: a loop that closes releases their
 * sockets (as the native transport does), e.g. one whose close() still waited
 * for a queued send's callback when the loop stopped.
 */
const openByLoop = new WeakMap<EventLoop, Set<DgramTransport>>();
onLoopClose((loop) => {
  const open = openByLoop.get(loop);
  if (open === undefined) return;
  openByLoop.delete(loop);
  for (const transport of open) transport._releaseOnLoopClose();
});

/** A UDP endpoint over a bound (and maybe connected) `dgram.Socket`. */
export class DgramTransport extends DatagramTransportBase {
  /** @internal */ readonly _socket: HostSocket;
  /** @internal Builds the sender addresses. */
  readonly _addresses: AddressCache;
  /** The libuv handle when sending and receiving directly, else null. */
  private readonly handle: UdpHandle | null;
  /** The request the next direct send uses (kept while the kernel takes sends at once). */
  private request: SendRequest | null;
  /** The one-element list a direct send passes. */
  private readonly list: Uint8Array[] = [NO_BYTES];
  /** The last host a direct send went to, known to be a numeric address. */
  private numericHost = '';
  /** Sizes of the public-API sends not yet confirmed: a ring, oldest at `sizesHead`. */
  private sizes = new Int32Array(16);
  private sizesHead = 0;
  private sizesCount = 0;
  private afterSend: ((err: Error | null) => void) | null = null;
  private socketClosed = false;

  /** @internal */
  constructor(loop: EventLoop, socket: dgram.Socket, protocol: DatagramProtocolLike, init: DatagramTransportInit, ipv6: boolean) {
    super(loop, protocol, init);
    this._socket = socket as HostSocket;
    this._addresses = new AddressCache(ipv6);
    this._socket[kTransport] = this;
    socket.on('error', onError);
    const handle = directHandleOf(socket);
    this.handle = handle;
    this.request = handle === null ? null : new (SendWrap as SendRequestClass)();
    if (handle !== null) {
      handle[kTransport] = this;
      handle.onmessage = onHandleMessage;
    } else {
      socket.on('message', onMessage);
    }
    let open = openByLoop.get(loop);
    if (open === undefined) openByLoop.set(loop, (open = new Set()));
    open.add(this);
  }

  /** @internal The loop closed with this endpoint open: nothing can run on it any more, so the socket is released. */
  _releaseOnLoopClose(): void {
    this._closeSocket();
  }

  /** Whether datagrams move through the libuv handle directly (see the module comment). */
  get _direct(): boolean {
    return this.handle !== null;
  }

  protected _checkSendAddress(addr: unknown): void {
    checkIpSendAddress(addr);
  }

  protected _send(data: Uint8Array, addr: DatagramAddress | null): void {
    const handle = this.handle;
    if (handle !== null && !this.socketClosed) {
      if (addr === null) {
        this.sendDirect(handle, data, null, 0);
        return;
      }
      const host = (addr as readonly [string, number])[0];
      if (host === this.numericHost || net.isIP(host) !== 0) {
        this.numericHost = host;
        this.sendDirect(handle, data, host, (addr as readonly [string, number])[1]);
        return;
      }
    }
    this.sendPublic(data, addr);
  }

  protected _stopReading(): void {
    // Nothing to stop: datagrams arriving while closing are ignored and the socket closes soon.
  }

  protected _closeSocket(): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    openByLoop.get(this._eventLoop)?.delete(this);
    this.sizesCount = 0;
    this._socket.close();
  }

  private sendDirect(handle: UdpHandle, data: Uint8Array, host: string | null, port: number): void {
    const request = (this.request ??= new (SendWrap as SendRequestClass)());
    const list = this.list;
    list[0] = data;
    const status = host === null ? handle.send(request, list, 1, true) : handle.send(request, list, 1, port, host, true);
    list[0] = NO_BYTES;
    if (status > 0) return; // the kernel took it: nothing is queued
    if (status === 0) {
      // libuv queued it: this request belongs to that send until it completes.
      const size = data.byteLength + DATAGRAM_HEADER_SIZE;
      request[kTransport] = this;
      request.size = size;
      request.data = data;
      request.oncomplete = onQueuedSendDone;
      this.request = null;
      this._queued(size);
      return;
    }
    this._onError(systemError(status, 'send', host ?? undefined, host === null ? undefined : port));
  }

  private sendPublic(data: Uint8Array, addr: DatagramAddress | null): void {
    const size = data.byteLength + DATAGRAM_HEADER_SIZE;
    this.pushSize(size);
    this._queued(size);
    const afterSend = (this.afterSend ??= (err) => this.afterPublicSend(err));
    if (addr === null) this._socket.send(data, afterSend);
    else this._socket.send(data, (addr as readonly [string, number])[1], (addr as readonly [string, number])[0], afterSend);
  }

  private pushSize(size: number): void {
    let sizes = this.sizes;
    if (this.sizesCount === sizes.length) {
      const grown = new Int32Array(sizes.length * 2);
      for (let i = 0; i < this.sizesCount; i++) grown[i] = sizes[(this.sizesHead + i) & (sizes.length - 1)] as number;
      this.sizes = sizes = grown;
      this.sizesHead = 0;
    }
    sizes[(this.sizesHead + this.sizesCount) & (sizes.length - 1)] = size;
    this.sizesCount++;
  }

  private afterPublicSend(err: Error | null): void {
    if (this.sizesCount === 0) return; // the socket closed: nothing is counted any more
    const size = this.sizes[this.sizesHead] as number;
    this.sizesHead = (this.sizesHead + 1) & (this.sizes.length - 1);
    this.sizesCount--;
    this._sendDone(size, err);
  }
}
