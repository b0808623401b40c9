/**
 * The UDP datagram transport over Node's `dgram.Socket`.
 *
 * Node's `dgram` queues sends itself (name lookup, then libuv's send queue),
 * so the write-buffer size is what was handed to `send()` and has not been
 * confirmed by its callback; the callbacks arrive in send order, so a queue
 * of sizes (no allocation per send once it has grown) says how much each
 * completion frees.
 */
import type dgram from 'node:dgram';
import type { DatagramAddress, DatagramProtocolLike, EventLoop } from '@aioloop/core';
import { AddressCache, checkIpSendAddress, DATAGRAM_HEADER_SIZE } from './address.js';
import { DatagramTransportBase, type DatagramTransportInit } from './transport-base.js';

/** The socket property through which the shared listeners find their transport (no closures per transport). */
const kTransport = Symbol('@aioloop/net.datagramTransport');

type HostSocket = dgram.Socket & { [kTransport]?: DgramTransport };

function onMessage(this: HostSocket, data: Buffer, rinfo: dgram.RemoteInfo): void {
  const transport = this[kTransport] as DgramTransport;
  transport._onDatagram(data, transport._addresses.get(rinfo.address, rinfo.port));
}

function onError(this: HostSocket, err: Error): void {
  (this[kTransport] as DgramTransport)._onError(err);
}

/** A UDP endpoint over a bound (and maybe connected) `dgram.Socket`. */
export class DgramTransport extends DatagramTransportBase {
  /** @internal */ readonly _socket: HostSocket;
  /** @internal Builds the sender addresses. */
  readonly _addresses: AddressCache;
  /** Sizes of the sends not yet confirmed: a ring, oldest at `sizesHead`. */
  private sizes = new Int32Array(16);
  private sizesHead = 0;
  private sizesCount = 0;
  private readonly afterSend: (err: Error | null) => void;
  private socketClosed = false;

  /** @internal */
  constructor(loop: EventLoop, socket: dgram.Socket, protocol: DatagramProtocolLike, init: DatagramTransportInit, ipv6: boolean) {
    super(loop, protocol, init);
    this._socket = socket as HostSocket;
    this._addresses = new AddressCache(ipv6);
    this.afterSend = (err) => this._afterSend(err);
    this._socket[kTransport] = this;
    socket.on('message', onMessage);
    socket.on('error', onError);
  }

  protected _checkSendAddress(addr: unknown): void {
    checkIpSendAddress(addr);
  }

  protected _send(data: Uint8Array, addr: DatagramAddress | null): void {
    const size = data.byteLength + DATAGRAM_HEADER_SIZE;
    this.pushSize(size);
    this._queued(size);
    if (addr === null) this._socket.send(data, this.afterSend);
    else this._socket.send(data, (addr as readonly [string, number])[1], (addr as readonly [string, number])[0], this.afterSend);
  }

  protected _stopReading(): void {
    // Nothing to stop: datagrams arriving while closing are ignored and the socket closes soon.
  }

  protected _closeSocket(): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    this.sizesCount = 0;
    this._socket.close();
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

  private _afterSend(err: Error | null): void {
    if (this.sizesCount === 0) return; // the socket closed: nothing is counted any more
    const size = this.sizes[this.sizesHead] as number;
    this.sizesHead = (this.sizesHead + 1) & (this.sizes.length - 1);
    this.sizesCount--;
    this._sendDone(size, err);
  }
}
