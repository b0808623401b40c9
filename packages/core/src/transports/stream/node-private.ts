/**
 * Every private field of Node's `net` that aioloop touches, in one module:
 *
 * - `net.Socket`'s `onread` symbols (`kBuffer`, `kBufferCb`, `kBufferGen`,
 *   found by their descriptions) and the handle's `useUserBuffer()`: they let
 *   an *accepted* socket read into buffers the transport chooses (Node's public
 *   `onread` option exists only for sockets a client creates);
 * - the handle's `getpeername()` / `getsockname()`, which fill in a reused
 *   object instead of allocating one per lookup;
 * - the handle's `fd`, for `fileno()`.
 *
 * What this Node has is checked when the module loads (the symbols, on a
 * socket that is never connected) and at the first accepted socket (the
 * handle). {@link nodeReadPath} says which read path is active; a loop in
 * debug mode logs it once. Anything missing makes the transports fall back
 * to Node's public API (`'data'` events, `remoteAddress`): slower, never wrong.
 */
import { Socket, type Server } from 'node:net';
import { logger } from '../../debug/logger.js';

/** Which read path accepted sockets use on this Node (see {@link nodeReadPath}). */
export interface NodeReadPath {
  /** Node version the answer is about. */
  readonly node: string;
  /** Whether `net.Socket`'s private `onread` symbols were found (checked at load). */
  readonly onreadSymbols: boolean;
  /**
   * How accepted sockets read: `'buffers'` (into the transport's scratch or
   * the protocol's buffer, no allocation per read), `'data-events'` (Node's
   * `'data'` events, a buffer allocated per read), or `'unchecked'` (no
   * socket has been switched yet, and the symbols were found).
   */
  readonly acceptedSockets: 'buffers' | 'data-events' | 'unchecked';
  /** Why accepted sockets use `'data-events'` (null otherwise). */
  readonly reason: string | null;
}

interface OnreadSymbols {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

type OnreadSocket = Socket & Record<symbol, unknown> & { _handle?: { reading?: boolean; useUserBuffer?: (buf: Uint8Array) => void } | null };

function findOnreadSymbols(): OnreadSymbols | null {
  const symbols = Object.getOwnPropertySymbols(new Socket());
  const find = (description: string) => symbols.find((sym) => sym.description === description);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const generator = find('kBufferGen');
  return buffer !== undefined && callback !== undefined && generator !== undefined ? { buffer, callback, generator } : null;
}

const onreadSymbols = findOnreadSymbols();
let acceptedPath: NodeReadPath['acceptedSockets'] = onreadSymbols === null ? 'data-events' : 'unchecked';
let fallbackReason: string | null = onreadSymbols === null ? "net.Socket has no 'kBuffer'/'kBufferCb'/'kBufferGen' symbols" : null;
let reported = false;

/**
 * Which read path accepted sockets use on this Node, for tests and
 * diagnostics: a Node upgrade that removes the private fields switches
 * aioloop to Node's `'data'` events silently otherwise.
 */
export function nodeReadPath(): NodeReadPath {
  return { node: process.versions.node, onreadSymbols: onreadSymbols !== null, acceptedSockets: acceptedPath, reason: fallbackReason };
}

function settle(path: 'buffers' | 'data-events', reason: string | null, debug: boolean): void {
  if (acceptedPath === 'unchecked') {
    acceptedPath = path;
    fallbackReason = reason;
  }
  if (debug && !reported) {
    reported = true;
    const info = nodeReadPath();
    logger.debug(`aioloop: accepted sockets read through ${info.acceptedSockets === 'buffers' ? "the transport's buffers (Node's onread internals)" : `'data' events (${info.reason ?? 'unknown'})`} on Node ${info.node}`);
  }
}

/**
 * Switches an accepted socket whose handle has not started reading to reads
 * into buffers the caller chooses: `first` is the first read's buffer; Node
 * then calls `callback` as a method of the socket after each read and
 * `nextBuffer()` (as a plain function, at once) for the next read's buffer.
 * Returns false — the socket keeps Node's `'data'` events — where this Node
 * lacks the fields, or the socket already reads or was given an `onread`.
 * `debug`: log the active path once.
 */
export function readIntoBuffers(
  socket: Socket,
  first: Uint8Array,
  callback: (this: Socket, nread: number, buf: Uint8Array) => boolean,
  nextBuffer: () => Uint8Array,
  debug: boolean,
): boolean {
  const stream = socket as OnreadSocket;
  const handle = stream._handle;
  if (handle === null || handle === undefined || handle.reading === true) return false;
  if (onreadSymbols === null) {
    settle('data-events', fallbackReason, debug);
    return false;
  }
  if (typeof handle.useUserBuffer !== 'function') {
    settle('data-events', "the socket's handle has no useUserBuffer()", debug);
    return false;
  }
  if (stream[onreadSymbols.buffer] !== null || stream[onreadSymbols.callback] !== null) return false;
  stream[onreadSymbols.generator] = nextBuffer;
  stream[onreadSymbols.callback] = callback;
  stream[onreadSymbols.buffer] = first;
  handle.useUserBuffer(first);
  settle('buffers', null, debug);
  return true;
}

/** What a handle's getpeername/getsockname fill in. */
export interface RawAddress {
  address?: string;
  family?: string;
  port?: number;
}
type AddressHandle = { getpeername?: (out: RawAddress) => number; getsockname?: (out: RawAddress) => number };

// Reused for every lookup: the handle fills it in.
const rawAddress: RawAddress = {};

/**
 * The address the socket's handle reports (`which`) without allocating: the
 * same object is reused, so copy what you keep. null: the handle has none (a
 * closed or Unix socket); undefined: this socket has no handle method to ask,
 * use Node's public `remoteAddress` / `address()`.
 */
export function handleAddress(socket: Socket, which: 'getpeername' | 'getsockname'): RawAddress | null | undefined {
  const handle = (socket as Socket & { _handle?: AddressHandle | null })._handle;
  if (handle === null || handle === undefined) return null;
  const get = handle[which];
  if (typeof get !== 'function') return undefined;
  rawAddress.address = undefined;
  rawAddress.port = undefined;
  rawAddress.family = undefined;
  if (get.call(handle, rawAddress) !== 0 || typeof rawAddress.address !== 'string' || rawAddress.address === '') return null;
  return rawAddress;
}

/** The file descriptor under a Node server or socket (asyncio's `sock.fileno()`), or -1 when Node does not expose it. */
export function fileno(socket: Server | Socket): number {
  const handle = (socket as { _handle?: { fd?: unknown } | null })._handle;
  return typeof handle?.fd === 'number' ? handle.fd : -1;
}
