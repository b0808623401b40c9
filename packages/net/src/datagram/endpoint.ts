/**
 * asyncio's `loop.create_datagram_endpoint()`: argument rules, address
 * resolution through `loop.getaddrinfo` (skipped for numeric hosts, as
 * asyncio's `_ensure_resolved`), one attempt per (family, proto) pair, and
 * the transport.
 */
import { checkLoop } from '@aioloop/core/internal';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { wrapFuture, type DatagramAddress, type DatagramProtocolLike, type EventLoop, type Future, type Task } from '@aioloop/core';
import { describeValue } from '@aioloop/core';
import { AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, IPPROTO_UDP, SOCK_DGRAM, type AddrInfo, type PortLike, type SockAddr } from '../dns.js';
import { checkFactory, type ProtocolFactory } from '../protocol-factory.js';
import { awaitOrClose } from '../await-or-close.js';
import { nativeBinding, nativeSocketsAvailable } from '../native/binding.js';
import { isSocket, SO_BROADCAST, SO_REUSEPORT, Socket, SOL_SOCKET } from '../native/socket.js';
import { reusePortSupported } from '../server.js';
import { checkOptionKeys } from '../socket-transport.js';
import { showAddress } from './address.js';
import { DgramTransport } from './dgram-transport.js';
import { NativeDatagramTransport } from './native-transport.js';
import type { DatagramTransportBase } from './transport-base.js';

/** A local or remote address: `[host, port]` for UDP, a path string for AF_UNIX. */
export type DatagramEndpointAddress = readonly [host: string | null, port: PortLike] | string;

/** Options of {@link createDatagramEndpoint} (asyncio's keyword arguments). */
export interface CreateDatagramEndpointOptions {
  /** Bind here: `[host, port]` (port 0: any), or a path with `family: AF_UNIX`. */
  localAddr?: DatagramEndpointAddress | null;
  /** Connect here: `sendto(data)` needs no address and only this peer's datagrams arrive. */
  remoteAddr?: DatagramEndpointAddress | null;
  /** AF_INET, AF_INET6 or AF_UNIX; AF_UNSPEC (0, default) takes the family the addresses resolve to. Required when no address is given. */
  family?: number;
  /** getaddrinfo `proto` hint: 0 or IPPROTO_UDP. */
  proto?: number;
  /** getaddrinfo flags (AI_*). */
  flags?: number;
  /** SO_REUSEPORT: several endpoints bind the same address and port (the kernel spreads datagrams). Needs the native socket part, or Node 22.12+. */
  reusePort?: boolean | null;
  /** SO_BROADCAST: may send to broadcast addresses; `remoteAddr` is then the default destination, not connected. */
  allowBroadcast?: boolean | null;
  /**
   * An existing datagram socket instead of the options above, which must then
   * be absent: a native {@link Socket} (SOCK_DGRAM, any family; made
   * non-blocking) or a `dgram.Socket` (bound or not, maybe connected). The
   * transport owns it from then on and closes it.
   */
  sock?: Socket | dgram.Socket | null;
}

const OPTION_KEYS = ['localAddr', 'remoteAddr', 'family', 'proto', 'flags', 'reusePort', 'allowBroadcast', 'sock'] as const;
const METHOD = 'createDatagramEndpoint';

function fail(message: string): never {
  throw new TypeError(`${METHOD}(): ${message}`);
}

interface CheckedOptions {
  localAddr: DatagramEndpointAddress | null;
  remoteAddr: DatagramEndpointAddress | null;
  family: number;
  proto: number;
  flags: number;
  reusePort: boolean;
  allowBroadcast: boolean;
  sock: Socket | dgram.Socket | null;
}

function checkInt(value: unknown, name: string, accepted: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(`${name} must be ${accepted}, got ${describeValue(value)}`);
  return value;
}

function checkFlag(value: unknown, name: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') fail(`${name} must be a boolean, got ${describeValue(value)}`);
  return value;
}

function checkOptions(options: unknown): CheckedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(`options must be an object { localAddr, remoteAddr, family, proto, flags, reusePort, allowBroadcast, sock }, got ${describeValue(options)}`);
  }
  if (Object.prototype.hasOwnProperty.call(options, 'reuseAddress')) {
    fail('reuseAddress is not supported: SO_REUSEADDR on UDP lets another process take over the port (asyncio removed reuse_address in Python 3.11); use reusePort');
  }
  checkOptionKeys(options, METHOD, OPTION_KEYS);
  const o = options as CreateDatagramEndpointOptions;
  const family = checkInt(o.family, 'family', 'AF_UNSPEC (0), AF_INET (2), AF_INET6 (10) or AF_UNIX (1)');
  if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX) {
    throw new RangeError(`${METHOD}(): family must be AF_UNSPEC (0), AF_INET (2), AF_INET6 (10) or AF_UNIX (1), got ${family}`);
  }
  const proto = checkInt(o.proto, 'proto', '0 or IPPROTO_UDP (17)');
  if (proto !== 0 && proto !== IPPROTO_UDP) throw new RangeError(`${METHOD}(): proto must be 0 or IPPROTO_UDP (17), got ${proto}`);
  const flags = checkInt(o.flags, 'flags', 'a bitwise OR of AI_* flags');
  const sock = o.sock ?? null;
  if (sock !== null && !(sock instanceof dgram.Socket) && !isSocket(sock)) fail(`sock must be a datagram socket (a Socket of type SOCK_DGRAM or a dgram.Socket), got ${describeValue(sock)}`);
  if (sock !== null && isSocket(sock)) {
    if (sock.fileno() < 0) fail('sock is closed');
    if (sock.type !== SOCK_DGRAM) fail(`a datagram socket (SOCK_DGRAM) was expected, got ${sock.toString()}`);
  }
  return {
    localAddr: o.localAddr ?? null,
    remoteAddr: o.remoteAddr ?? null,
    family,
    proto,
    flags,
    reusePort: checkFlag(o.reusePort, 'reusePort'),
    allowBroadcast: checkFlag(o.allowBroadcast, 'allowBroadcast'),
    sock,
  };
}

function checkIpAddress(addr: unknown, name: string): readonly [string | null, PortLike] {
  if (!Array.isArray(addr) || addr.length !== 2) fail(`${name} must be [host, port] (a 2-element array, as asyncio's 2-tuple), got ${showAddress(addr)}`);
  const [host, port] = addr as unknown[];
  if (host !== null && typeof host !== 'string') fail(`${name}[0] (host) must be a string or null, got ${describeValue(host)}`);
  if (port !== null && port !== undefined && typeof port !== 'number' && typeof port !== 'string') {
    fail(`${name}[1] (port) must be a number, a service name or null, got ${describeValue(port)}`);
  }
  return addr as unknown as readonly [string | null, PortLike];
}

/** asyncio's `_ipaddr_info`: the getaddrinfo entry of a numeric host and port, or null if it needs a lookup. */
function numericInfo(host: string | null, port: PortLike, family: number, proto: number): AddrInfo | null {
  if (host === null) return null;
  let portNumber: number;
  if (port === null || port === undefined || port === '') portNumber = 0;
  else if (typeof port === 'number') portNumber = port;
  else if (/^\d+$/.test(port)) portNumber = Number(port);
  else return null;
  if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535) return null;
  const kind = net.isIP(host);
  if (kind === 4 && (family === AF_UNSPEC || family === AF_INET)) return [AF_INET, SOCK_DGRAM, proto || IPPROTO_UDP, '', [host, portNumber]];
  if (kind === 6 && (family === AF_UNSPEC || family === AF_INET6)) return [AF_INET6, SOCK_DGRAM, proto || IPPROTO_UDP, '', [host, portNumber, 0, 0]];
  return null;
}

async function resolve(loop: EventLoop, addr: readonly [string | null, PortLike], o: CheckedOptions): Promise<AddrInfo[]> {
  const info = numericInfo(addr[0], addr[1], o.family, o.proto);
  if (info !== null) return [info];
  return loop.getaddrinfo(addr[0], addr[1], { family: o.family, type: SOCK_DGRAM, proto: o.proto, flags: o.flags });
}

/** asyncio's pairing: one candidate per (family, proto) for which every given address resolved. */
async function addressPairs(
  loop: EventLoop,
  local: readonly [string | null, PortLike] | null,
  remote: readonly [string | null, PortLike] | null,
  o: CheckedOptions,
): Promise<[family: number, local: SockAddr | null, remote: SockAddr | null][]> {
  const byKey = new Map<string, [family: number, local: SockAddr | null, remote: SockAddr | null]>();
  const addrs: [number, readonly [string | null, PortLike] | null][] = [
    [1, local],
    [2, remote],
  ];
  for (const [index, addr] of addrs) {
    if (addr === null) continue;
    const infos = await resolve(loop, addr, o);
    if (infos.length === 0) throw Object.assign(new Error('getaddrinfo() returned empty list'), { code: 'EAI_NONAME' });
    for (const [family, , proto, , sockaddr] of infos) {
      const key = `${family}/${proto}`;
      let entry = byKey.get(key);
      if (entry === undefined) byKey.set(key, (entry = [family, null, null]));
      if (entry[index] === null) entry[index] = sockaddr;
    }
  }
  const pairs = [...byKey.values()].filter(([, l, r]) => !(local !== null && l === null) && !(remote !== null && r === null));
  if (pairs.length === 0) throw new RangeError(`${METHOD}(): can not get address information: localAddr and remoteAddr resolve to no common address family`);
  return pairs;
}

/** Waits for one of a dgram socket's events, or its 'error'. */
function once(loop: EventLoop, socket: dgram.Socket, event: 'listening' | 'connect', start: () => void): PromiseLike<void> {
  return wrapFuture(
    new Promise<void>((resolvePromise, reject) => {
      const onError = (error: Error): void => {
        socket.off(event, onEvent);
        reject(error);
      };
      const onEvent = (): void => {
        socket.off('error', onError);
        resolvePromise();
      };
      socket.once(event, onEvent);
      socket.once('error', onError);
      try {
        start();
      } catch (error) {
        socket.off(event, onEvent);
        socket.off('error', onError);
        reject(error);
      }
    }),
    loop,
  );
}

function isBound(socket: dgram.Socket): boolean {
  try {
    socket.address();
    return true;
  } catch {
    return false;
  }
}

function remoteOf(socket: dgram.Socket, ipv6: boolean): DatagramAddress | null {
  try {
    const r = socket.remoteAddress();
    return ipv6 ? [r.address, r.port, 0, 0] : [r.address, r.port];
  } catch {
    return null;
  }
}

/**
 * Which UDP path endpoints take when the native part loads: native sockets,
 * measured cheaper per datagram than `dgram` (recvmmsg batches, no request
 * objects; see BENCHMARKS.md), unless tests choose otherwise.
 */
let udpPath: 'native' | 'dgram' = 'native';

/** @internal Tests run UDP over every path: `'dgram'` makes new UDP endpoints use Node's dgram even when the native part loads. */
export function _setUdpPath(path: 'native' | 'dgram'): void {
  udpPath = path;
}

/** Opens, binds and connects one native datagram socket as asyncio's loop body does; closes it on failure. */
function openNative(family: number, proto: number, local: SockAddr | string | null, remote: SockAddr | string | null, o: CheckedOptions): Socket {
  const sock = new Socket(family, SOCK_DGRAM, family === AF_UNIX ? 0 : proto);
  try {
    if (o.reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    if (o.allowBroadcast) sock.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
    sock.setblocking(false);
    if (local !== null) sock.bind(local);
    // A datagram connect only records the peer: it never waits.
    if (remote !== null && !o.allowBroadcast) sock.connect(remote);
    return sock;
  } catch (error) {
    sock.close();
    throw error;
  }
}

/** asyncio removes a stale socket file before binding an AF_UNIX datagram socket to its path. */
function removeStaleSocket(path: string): void {
  if (path.startsWith('\0')) return;
  try {
    if (fs.statSync(path).isSocket()) fs.unlinkSync(path);
  } catch {
    // missing, or not ours to check: bind() reports what matters
  }
}

function nativeExtra(sock: Socket): Record<string, unknown> {
  let peername: unknown = null;
  try {
    peername = sock.getpeername();
  } catch {
    // not connected
  }
  return { sockname: sock.getsockname(), peername, socket: sock };
}

/** Opens, binds and connects one UDP socket as asyncio's loop body does; closes it on failure. */
async function openUdp(loop: EventLoop, family: number, local: SockAddr | null, remote: SockAddr | null, o: CheckedOptions): Promise<dgram.Socket> {
  const options: dgram.SocketOptions & { reusePort?: boolean } = { type: family === AF_INET6 ? 'udp6' : 'udp4' };
  if (o.reusePort) options.reusePort = true;
  const socket = dgram.createSocket(options);
  try {
    // Node reads only from a bound socket: one without localAddr gets the
    // wildcard address and a free port now, as the kernel would on its first send.
    await once(loop, socket, 'listening', () => socket.bind({ address: local?.[0], port: local?.[1] ?? 0, exclusive: true }));
    if (o.allowBroadcast) socket.setBroadcast(true);
    if (remote !== null && !o.allowBroadcast) await once(loop, socket, 'connect', () => socket.connect(remote[1], remote[0]));
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}

function extraOf(socket: dgram.Socket, ipv6: boolean): Record<string, unknown> {
  const a = socket.address();
  return {
    sockname: ipv6 ? [a.address, a.port, 0, 0] : [a.address, a.port],
    peername: remoteOf(socket, ipv6),
    socket,
  };
}

/**
 * asyncio's `loop.create_datagram_endpoint(protocol_factory, ...)`: a UDP
 * endpoint (IPv4 or IPv6) bound to `localAddr` and/or connected to
 * `remoteAddr`, an AF_UNIX datagram endpoint (`family: AF_UNIX`, paths), or
 * an endpoint over an existing socket (`sock`); resolves to
 * `[transport, protocol]` once `connectionMade` ran.
 *
 * Host names resolve through `loop.getaddrinfo` (numeric hosts skip it); each
 * (family, proto) for which every given address resolved is tried in order
 * and the first error is raised if none works. Without an address, `family`
 * is required. UDP runs over a native socket when @aioloop/native-sockets
 * loads, else over Node's `dgram`; AF_UNIX needs the native part (a
 * `NativeSocketsUnavailableError` otherwise). Errors: TypeError/RangeError
 * naming the option for bad arguments (thrown by the call), the socket's
 * system error (`EADDRINUSE`, `ENOENT`, ...) from the task.
 */
export function createDatagramEndpoint<P extends DatagramProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  options: CreateDatagramEndpointOptions = {},
): Task<[DatagramTransportBase, P]> {
  checkLoop(loop, 'createDatagramEndpoint()');
  checkFactory(protocolFactory, METHOD);
  const o = checkOptions(options);
  if (o.sock !== null) {
    const given = { localAddr: o.localAddr, remoteAddr: o.remoteAddr, family: o.family, proto: o.proto, flags: o.flags, reusePort: o.reusePort, allowBroadcast: o.allowBroadcast };
    const problems = Object.entries(given).filter(([, v]) => v !== null && v !== 0 && v !== false);
    if (problems.length > 0) {
      fail(`socket modifier options can not be used when sock is specified (${problems.map(([k, v]) => `${k}=${showAddress(v)}`).join(', ')})`);
    }
  } else if (o.localAddr === null && o.remoteAddr === null) {
    if (o.family === AF_UNSPEC) throw new RangeError(`${METHOD}(): unexpected address family: give localAddr, remoteAddr or family`);
  }
  if (o.family === AF_UNIX) {
    for (const [name, addr] of [['localAddr', o.localAddr], ['remoteAddr', o.remoteAddr]] as const) {
      if (addr !== null && (typeof addr !== 'string' || addr.length === 0)) fail(`${name} must be a path string with family AF_UNIX, got ${showAddress(addr)}`);
    }
    nativeBinding(`${METHOD}({ family: AF_UNIX })`);
    return createUnixEndpoint(loop, protocolFactory, o);
  }
  if (o.sock !== null && isSocket(o.sock)) {
    const sock = o.sock;
    return loop.createTask(async () => {
      sock.setblocking(false);
      const extra = nativeExtra(sock);
      return makeTransport(loop, protocolFactory, (protocol, waiter) => new NativeDatagramTransport(loop, sock, protocol, { address: extra.peername as DatagramAddress | null, extra, waiter }), () => sock.close());
    }, { name: METHOD });
  }
  const local = o.sock !== null || o.localAddr === null ? null : checkIpAddress(o.localAddr, 'localAddr');
  const remote = o.sock !== null || o.remoteAddr === null ? null : checkIpAddress(o.remoteAddr, 'remoteAddr');
  const native = o.sock === null && nativeSocketsAvailable() && (udpPath === 'native' || (o.reusePort && !reusePortSupported()));
  if (o.reusePort && !native && !reusePortSupported()) {
    throw new RangeError(`${METHOD}(): reusePort needs the native socket part of @aioloop/net (@aioloop/native-sockets) or Node 22.12 or newer; this is Node ${process.versions.node}`);
  }
  if (native) {
    return loop.createTask(async () => {
      const pairs = await addressPairs(loop, local, remote, o);
      const errors: unknown[] = [];
      for (const [family, localAddr, remoteAddr] of pairs) {
        let sock: Socket;
        try {
          sock = openNative(family, o.proto, localAddr, remoteAddr, o);
        } catch (error) {
          if (!(error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string')) throw error;
          errors.push(error);
          continue;
        }
        const extra = nativeExtra(sock);
        return makeTransport(loop, protocolFactory, (protocol, waiter) => new NativeDatagramTransport(loop, sock, protocol, { address: remoteAddr, extra, waiter }), () => sock.close());
      }
      throw errors[0];
    }, { name: METHOD });
  }

  return loop.createTask(async () => {
    let socket: dgram.Socket;
    let peer: DatagramAddress | null = null;
    if (o.sock !== null) {
      socket = o.sock as dgram.Socket;
      if (!isBound(socket)) await once(loop, socket, 'listening', () => socket.bind({ port: 0, exclusive: true }));
    } else {
      const pairs = await addressPairs(loop, local, remote, o);
      const errors: unknown[] = [];
      let opened: dgram.Socket | null = null;
      for (const [family, local, remoteAddr] of pairs) {
        try {
          opened = await openUdp(loop, family, local, remoteAddr, o);
          peer = remoteAddr;
          break;
        } catch (error) {
          if (!(error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string')) throw error;
          errors.push(error);
        }
      }
      if (opened === null) throw errors[0];
      socket = opened;
    }
    const ipv6 = socket.address().family === 'IPv6';
    const extra = extraOf(socket, ipv6);
    if (o.sock !== null) peer = extra.peername as DatagramAddress | null;
    return makeTransport(loop, protocolFactory, (protocol, waiter) => new DgramTransport(loop, socket, protocol, { address: peer, extra, waiter }, ipv6), () => socket.close());
  }, { name: METHOD });
}

/**
 * The common tail: build the protocol and the transport, wait for
 * `connectionMade`, return `[transport, protocol]`; the socket is closed if
 * the factory or `connectionMade` throws (or the task is cancelled).
 */
async function makeTransport<P extends DatagramProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  build: (protocol: P, waiter: Future<void>) => DatagramTransportBase,
  closeSocket: () => void,
): Promise<[DatagramTransportBase, P]> {
  let protocol: P;
  try {
    protocol = protocolFactory();
  } catch (error) {
    closeSocket();
    throw error;
  }
  const waiter = loop.createFuture<void>();
  const transport = build(protocol, waiter);
  await awaitOrClose(waiter, transport);
  return [transport, protocol];
}

/** asyncio's AF_UNIX branch: paths as given (no resolution), a stale socket file at localAddr removed first. */
function createUnixEndpoint<P extends DatagramProtocolLike>(loop: EventLoop, protocolFactory: ProtocolFactory<P>, o: CheckedOptions): Task<[DatagramTransportBase, P]> {
  const local = o.localAddr as string | null;
  const remote = o.remoteAddr as string | null;
  return loop.createTask(async () => {
    if (local !== null) removeStaleSocket(local);
    const sock = openNative(AF_UNIX, 0, local, remote, o);
    const extra = nativeExtra(sock);
    return makeTransport(loop, protocolFactory, (protocol, waiter) => new NativeDatagramTransport(loop, sock, protocol, { address: remote, extra, waiter }), () => sock.close());
  }, { name: METHOD });
}
