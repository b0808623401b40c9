/**
 * Opening TCP connections as asyncio's `loop.create_connection` does before it
 * builds a transport: resolve, order the addresses (family interleaving), try
 * them one after another or staggered (Happy Eyeballs, RFC 8305), bind a local
 * address, and combine the failures as asyncio does.
 */
import { checkLoop } from '@aioloop/core/internal';
import net from 'node:net';
import { describeValue, staggeredRace, type EventLoop, type Future } from '@aioloop/core';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  SOCK_STREAM,
  type AddrInfo,
  type PortLike,
} from './dns.js';
import { ensureResolved } from './resolve.js';

/**
 * Node's static-buffer receive option (`net.connect({ onread })`), used for
 * BufferedProtocol. `callback` returning `false` pauses reading, as in Node.
 */
export interface OnReadOptions {
  /** The buffer to read into, or a function returning it (called per read). */
  buffer: Uint8Array | (() => Uint8Array);
  /** Called with the number of bytes read into `buffer` (Node's `onread.callback`). */
  callback(bytesWritten: number, buffer: Uint8Array): boolean | void;
}

/** Options for {@link connectSocket}, named as asyncio's `create_connection` keywords. */
export interface ConnectSocketOptions {
  /** AF_UNSPEC (default), AF_INET or AF_INET6: which addresses of `host` to try. */
  family?: number;
  /** getaddrinfo `proto` hint (0 or IPPROTO_TCP). */
  proto?: number;
  /** getaddrinfo flags (AI_*). */
  flags?: number;
  /** Bind the socket to this `[host, port]` before connecting (resolved like the remote address). */
  localAddr?: readonly [host: string | null, port: PortLike] | null;
  /**
   * Happy Eyeballs (RFC 8305): seconds to wait for an attempt before starting
   * the next one in parallel. Unset: one address at a time, the next only
   * after the previous failed. asyncio recommends 0.25.
   */
  happyEyeballsDelay?: number | null;
  /**
   * Interleave address families: how many addresses of the first family go
   * first before alternating. Default 1 when `happyEyeballsDelay` is set,
   * otherwise no reordering (as asyncio).
   */
  interleave?: number | null;
  /**
   * When every attempt fails: reject with an `AggregateError` of all the errors
   * (asyncio's ExceptionGroup) instead of one combined error.
   */
  allErrors?: boolean;
  /** An already-connected `net.Socket` to use instead of connecting; `host` and `port` must then be null. */
  sock?: net.Socket | null;
  /**
   * Passed to `net.connect` (Node's zero-copy receive into one buffer, for
   * BufferedProtocol transports). Only the winning socket's reads reach the
   * callback.
   */
  onread?: OnReadOptions;
}

/**
 * Rejection when several connection attempts failed with different messages
 * (asyncio raises `OSError('Multiple exceptions: ...')`). `errors` holds each
 * attempt's error in address order.
 */
export class MultipleConnectErrors extends Error {
  override name = 'MultipleConnectErrors';
  /** Every attempt's error, in the order the addresses were tried. */
  readonly errors: readonly Error[];
  constructor(errors: readonly Error[]) {
    super(`Multiple exceptions: ${errors.map((e) => e.message).join(', ')}`);
    this.errors = errors;
  }
}

function familyName(family: number): string {
  return family === AF_INET ? 'AF_INET' : family === AF_INET6 ? 'AF_INET6' : String(family);
}

function checkOptionalInt(value: unknown, name: string, accepted: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`connectSocket(): ${name} must be ${accepted}, got ${describeValue(value)}`);
  }
}

function checkPort(port: unknown, name: string): void {
  if (port === null || port === undefined) return;
  if (typeof port === 'number') {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`connectSocket(): ${name} must be an integer 0-65535 or a service name, got ${describeValue(port)}`);
    }
    return;
  }
  if (typeof port === 'string' && port !== '') return;
  throw new TypeError(`connectSocket(): ${name} must be an integer 0-65535, a service name string or null, got ${describeValue(port)}`);
}

/** Validates the options; returns the effective interleave count (0: none). */
function checkOptions(options: ConnectSocketOptions): number {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`connectSocket(): options must be an object, got ${describeValue(options)}`);
  }
  checkOptionalInt(options.family, 'family', 'AF_UNSPEC (0), AF_INET (2) or AF_INET6 (10)');
  if (options.family !== undefined && options.family !== null && ![AF_UNSPEC, AF_INET, AF_INET6].includes(options.family)) {
    throw new TypeError(`connectSocket(): family must be AF_UNSPEC (0), AF_INET (2) or AF_INET6 (10), got ${describeValue(options.family)}`);
  }
  checkOptionalInt(options.proto, 'proto', '0 or IPPROTO_TCP (6)');
  checkOptionalInt(options.flags, 'flags', 'a bitwise OR of AI_* flags');
  const delay = options.happyEyeballsDelay;
  if (delay !== undefined && delay !== null && (typeof delay !== 'number' || Number.isNaN(delay) || delay < 0)) {
    throw new TypeError(`connectSocket(): happyEyeballsDelay must be a number of seconds >= 0 or null, got ${describeValue(delay)}`);
  }
  const interleave = options.interleave;
  if (interleave !== undefined && interleave !== null && (typeof interleave !== 'number' || !Number.isInteger(interleave) || interleave < 0)) {
    throw new TypeError(`connectSocket(): interleave must be a positive integer (or 0/null for no interleaving), got ${describeValue(interleave)}`);
  }
  if (options.allErrors !== undefined && typeof options.allErrors !== 'boolean') {
    throw new TypeError(`connectSocket(): allErrors must be a boolean, got ${describeValue(options.allErrors)}`);
  }
  const local = options.localAddr;
  if (local !== undefined && local !== null) {
    if (!Array.isArray(local) || local.length !== 2) {
      throw new TypeError(`connectSocket(): localAddr must be [host, port] or null, got ${describeValue(local)}`);
    }
    if (local[0] !== null && typeof local[0] !== 'string') {
      throw new TypeError(`connectSocket(): localAddr[0] (host) must be a string or null, got ${describeValue(local[0])}`);
    }
    checkPort(local[1], 'localAddr[1] (port)');
  }
  const onread = options.onread;
  if (onread !== undefined && (onread === null || typeof onread !== 'object' || typeof onread.callback !== 'function' || onread.buffer === undefined)) {
    throw new TypeError(`connectSocket(): onread must be { buffer, callback } as for net.connect, got ${describeValue(onread)}`);
  }
  if (interleave !== undefined && interleave !== null) return interleave;
  return delay !== undefined && delay !== null ? 1 : 0;
}

/**
 * Reorders addresses so families alternate (asyncio's `_interleave_addrinfos`):
 * the first `firstFamilyCount` addresses of the first family come first, then
 * one of each family in turn.
 */
export function interleaveAddrinfos(addrinfos: readonly AddrInfo[], firstFamilyCount = 1): AddrInfo[] {
  if (!Array.isArray(addrinfos)) throw new TypeError(`interleaveAddrinfos(): addrinfos must be an array of getaddrinfo entries, got ${describeValue(addrinfos)}`);
  if (!Number.isInteger(firstFamilyCount) || firstFamilyCount < 1) {
    throw new RangeError(`interleaveAddrinfos(): firstFamilyCount must be a whole number >= 1, got ${describeValue(firstFamilyCount)}`);
  }
  const byFamily = new Map<number, AddrInfo[]>();
  for (const info of addrinfos) {
    const list = byFamily.get(info[0]);
    if (list === undefined) byFamily.set(info[0], [info]);
    else list.push(info);
  }
  const lists = [...byFamily.values()].map((l) => l.slice());
  const reordered: AddrInfo[] = [];
  if (firstFamilyCount > 1 && lists[0] !== undefined) reordered.push(...lists[0].splice(0, firstFamilyCount - 1));
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) {
    for (const list of lists) {
      const info = list[i];
      if (info !== undefined) reordered.push(info);
    }
  }
  return reordered;
}

/** Combines the attempts' errors as asyncio's create_connection does. */
function combineErrors(errors: Error[], allErrors: boolean): Error {
  if (allErrors) return new AggregateError(errors, 'create_connection failed');
  const first = errors[0] as Error;
  if (errors.length === 1) return first;
  if (errors.every((e) => e.message === first.message)) return first;
  return new MultipleConnectErrors(errors);
}

/** Parks errors of a socket handed over to its new owner until it attaches its own listener. */
function parkedErrorListener(): void {}

/**
 * Checks a socket passed as `sock` (asyncio: "A Stream Socket was expected").
 * @internal
 */
function checkGivenSocket(sock: unknown): net.Socket {
  if (!(sock instanceof net.Socket)) {
    throw new TypeError(`connectSocket(): sock must be a connected net.Socket (a stream socket), got ${describeValue(sock)}`);
  }
  if (sock.destroyed) throw new TypeError('connectSocket(): sock is destroyed; pass an open, connected net.Socket');
  if (sock.connecting || sock.pending) {
    throw new TypeError('connectSocket(): sock is not connected yet; pass a connected net.Socket (wait for its "connect" event)');
  }
  return sock;
}

/**
 * Opens a TCP connection to `host`:`port` as asyncio's `create_connection`
 * does before it builds the transport, and returns the connected
 * `net.Socket` (as a Future of `loop`: cancelling it, or the task awaiting
 * it, destroys every pending attempt's socket).
 *
 * The host is resolved with the loop's own `loop.getaddrinfo` (SOCK_STREAM, honouring
 * `family`, `proto`, `flags`); the addresses are tried in order, or staggered
 * by `happyEyeballsDelay` with `interleave`d families (the first to connect
 * wins and the others are destroyed). When all fail it rejects with the error
 * (Node's `code` kept: `ECONNREFUSED`, ...) if there was one, or all failed
 * with the same message; otherwise a {@link MultipleConnectErrors}; with
 * `allErrors`, an `AggregateError` of every attempt's error.
 *
 * With `sock`, `host` and `port` must be null: the socket is checked and
 * returned as is.
 *
 * Argument errors throw synchronously (TypeError/RangeError naming the
 * argument); resolution and connection errors reject the Future.
 *
 * The returned socket has a no-op `'error'` listener attached so an error that
 * arrives before its new owner takes over cannot crash the process; the owner
 * should check `socket.destroyed` / `socket.errored` when it attaches its own.
 */
export function connectSocket(loop: EventLoop, host: string | null | undefined, port: PortLike, options: ConnectSocketOptions = {}): Future<net.Socket> {
  checkLoop(loop, 'connectSocket()');
  const interleave = checkOptions(options);
  const sock = options.sock;
  if (sock !== undefined && sock !== null) {
    if ((host !== null && host !== undefined) || (port !== null && port !== undefined)) {
      throw new TypeError('connectSocket(): host/port and sock can not be specified at the same time');
    }
    const checked = checkGivenSocket(sock);
    const future = loop.createFuture<net.Socket>();
    future.setResult(checked);
    return future;
  }
  if ((host === null || host === undefined) && (port === null || port === undefined)) {
    throw new TypeError('connectSocket(): host and port was not specified and no sock specified');
  }
  if (host !== null && host !== undefined && typeof host !== 'string') {
    throw new TypeError(`connectSocket(): host must be a string (name or numeric address) or null, got ${describeValue(host)}`);
  }
  checkPort(port, 'port');

  const future = loop.createFuture<net.Socket>();
  const hints = { family: options.family ?? AF_UNSPEC, type: SOCK_STREAM, proto: options.proto ?? 0, flags: options.flags ?? 0 };
  const local = options.localAddr;
  const resolving = Promise.all([
    ensureResolved(loop, host, port, hints),
    local === undefined || local === null ? Promise.resolve(null) : ensureResolved(loop, local[0], local[1], hints),
  ]);
  resolving.then(
    ([infos, localInfos]) => {
      if (future.done() || loop.isClosed()) return;
      if (infos.length === 0 || (localInfos !== null && localInfos.length === 0)) {
        future.setException(new Error('getaddrinfo() returned empty list'));
        return;
      }
      const ordered = interleave > 0 ? interleaveAddrinfos(infos, interleave) : infos;
      startRace(loop, future, ordered, localInfos, options);
    },
    (error: unknown) => {
      if (!future.done() && !loop.isClosed()) future.setException(error);
    },
  );
  return future;
}

/**
 * Like {@link connectSocket} with the addresses already resolved: tries
 * `addrinfos` (getaddrinfo entries; only their family and sockaddr are used)
 * in the order given, staggered by `happyEyeballsDelay` if set. `interleave`
 * applies as in connectSocket; `localAddr` is resolved first if given.
 */
export function connectToAddresses(loop: EventLoop, addrinfos: readonly AddrInfo[], options: ConnectSocketOptions = {}): Future<net.Socket> {
  checkLoop(loop, 'connectToAddresses()');
  const interleave = checkOptions(options);
  if (!Array.isArray(addrinfos) || addrinfos.length === 0) {
    throw new TypeError(`connectToAddresses(): addrinfos must be a non-empty array of getaddrinfo entries, got ${describeValue(addrinfos)}`);
  }
  for (const info of addrinfos) {
    const sockaddr = Array.isArray(info) ? info[4] : undefined;
    if (!Array.isArray(sockaddr) || typeof sockaddr[0] !== 'string' || typeof sockaddr[1] !== 'number' || net.isIP(sockaddr[0]) === 0) {
      throw new TypeError(`connectToAddresses(): each entry must be [family, type, proto, canonname, [numericHost, port, ...]], got ${describeValue(info)}`);
    }
  }
  const future = loop.createFuture<net.Socket>();
  const ordered = interleave > 0 ? interleaveAddrinfos(addrinfos, interleave) : addrinfos.slice();
  const local = options.localAddr;
  if (local === undefined || local === null) {
    startRace(loop, future, ordered, null, options);
    return future;
  }
  ensureResolved(loop, local[0], local[1], { family: options.family ?? AF_UNSPEC, type: SOCK_STREAM, proto: options.proto ?? 0, flags: options.flags ?? 0 }).then(
    (localInfos) => {
      if (!future.done() && !loop.isClosed()) startRace(loop, future, ordered, localInfos, options);
    },
    (error: unknown) => {
      if (!future.done() && !loop.isClosed()) future.setException(error);
    },
  );
  return future;
}

/** Where the attempts of one race meet: the first socket to connect claims the win, in Node's own 'connect' callback. */
interface RaceState {
  winner: net.Socket | null;
  /** The attempts' sockets not yet destroyed. */
  readonly open: Set<net.Socket>;
}

/**
 * One connection attempt: resolves to the connected socket if it is the first
 * of its race to connect; otherwise (failed, beaten, cancelled) destroys its
 * socket and throws. The win is claimed in the 'connect' callback itself, so
 * that `onread` bytes of the winner are never dropped on the way.
 */
async function connectOne(loop: EventLoop, info: AddrInfo, localInfos: readonly AddrInfo[] | null, userOnread: OnReadOptions | undefined, race: RaceState): Promise<net.Socket> {
  const family = info[0];
  const [address, port] = info[4];
  const connectOptions: net.NetConnectOpts = { host: address, port, family: family === AF_INET6 ? 6 : 4 };
  if (localInfos !== null) {
    const localInfo = localInfos.find((l) => l[0] === family);
    // asyncio: OSError("no matching local address with family=... found")
    if (localInfo === undefined) throw new Error(`no matching local address with family=${familyName(family)} found`);
    connectOptions.localAddress = localInfo[4][0];
    if (localInfo[4][1] !== 0) connectOptions.localPort = localInfo[4][1];
  }
  if (userOnread !== undefined) {
    (connectOptions as net.TcpNetConnectOpts).onread = {
      buffer: userOnread.buffer,
      callback: (nread, buf) => (socket === race.winner ? userOnread.callback(nread, buf) !== false : false),
    };
  }
  const socket = net.connect(connectOptions);
  race.open.add(socket);
  const connected = loop.createFuture<void>();
  socket.on('error', (error: Error) => {
    if (loop.isClosed()) socket.destroy();
    else if (!connected.done()) connected.setException(error);
  });
  socket.once('connect', () => {
    if (loop.isClosed()) socket.destroy();
    else if (!connected.done()) {
      if (race.winner === null) race.winner = socket;
      connected.setResult(undefined);
    }
  });
  try {
    await connected;
    if (race.winner !== socket) throw new Error('another connection attempt connected first');
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  } finally {
    if (socket.destroyed) race.open.delete(socket);
  }
}

/** Runs the connection attempts through core's staggeredRace (staggered with Happy Eyeballs, one at a time without) and settles `future`. */
function startRace(
  loop: EventLoop,
  future: Future<net.Socket>,
  addrinfos: readonly AddrInfo[],
  localInfos: readonly AddrInfo[] | null,
  options: ConnectSocketOptions,
): void {
  const state: RaceState = { winner: null, open: new Set() };
  const attempts = addrinfos.map((info) => () => connectOne(loop, info, localInfos, options.onread, state));
  const race = staggeredRace(attempts, options.happyEyeballsDelay ?? null, { loop });
  future.addDoneCallback(() => {
    if (!future.cancelled()) return;
    race.cancel();
    // Now, not when the attempts next run: the loop may stop before they do.
    for (const socket of state.open) socket.destroy();
  });
  race.addDoneCallback(() => {
    if (race.cancelled()) return;
    const failure = race.exception();
    const socket = failure === null ? race.result()[0] : null;
    if (future.done() || loop.isClosed()) {
      socket?.destroy();
    } else if (failure !== null) {
      future.setException(failure);
    } else if (socket === null) {
      future.setException(combineErrors(race.result()[2] as Error[], options.allErrors ?? false));
    } else {
      socket.removeAllListeners('error');
      socket.on('error', parkedErrorListener);
      future.setResult(socket);
    }
  });
}
