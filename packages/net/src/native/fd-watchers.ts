/**
 * asyncio's `add_reader` / `add_writer` / `remove_reader` / `remove_writer`
 * over libuv poll watchers (uvloop's model): one `uv_poll_t` per fd and loop,
 * its event set the union of the reader and writer registered on it.
 *
 * Which fd is polled:
 * - an fd owned by an open {@link Socket} is polled directly, and its watcher
 *   is kept (stopped) between waits until the Socket closes: the sock*
 *   methods wait on the same socket over and over;
 * - any other fd is polled through a duplicate made at `addReader`/`addWriter`
 *   and closed when the last callback is removed. libuv aborts the process if
 *   a polled fd is closed before it registers it, and two libuv handles must
 *   not poll one fd number; the duplicate keeps the open file alive, so an fd
 *   closed behind the loop's back (or owned by a Node handle) is safe. The
 *   cost: the file stays open until its callbacks are removed, which asyncio
 *   requires before closing anyway.
 *
 * Readiness runs a user callback as a loop callback (asyncio's ready queue);
 * the sock* methods' own waiters run at once, in the poll callback.
 */
import type { NativeBinding, NativePoll } from '@aioloop/native-sockets';
import type { EventLoop, Handle, LoopCallback } from '@aioloop/core';
import { callSoonUnchecked, checkClosed, onLoopClose } from '@aioloop/core/internal';
import { nativeBinding } from './binding.js';
import { systemError } from './errors.js';
import { beforeSocketClose, fileobjToFd, openSockets, type FileLike } from './socket.js';

/** libuv's UV_READABLE / UV_WRITABLE. */
export const READ = 1;
export const WRITE = 2;

/** A sock* method's internal waiter: `run()` retries the call; it runs in the poll callback. */
export interface DirectWaiter {
  run(): void;
}

/** A user callback registered with addReader/addWriter (asyncio's reader/writer Handle). */
class UserCallback {
  cancelled = false;
  /** The loop callback that will run it, while queued. */
  queued: Handle | null = null;
  constructor(
    readonly callback: (...args: unknown[]) => void,
    readonly args: unknown[],
  ) {}

  cancel(): void {
    this.cancelled = true;
    this.queued?.cancel();
    this.queued = null;
  }
}

type Slot = UserCallback | DirectWaiter | null;

const kWatch = Symbol('aioloop.fdWatch');

class FdWatch {
  reader: Slot = null;
  writer: Slot = null;
  /** A user callback is in the ready queue; further readiness is not queued twice. */
  readQueued = false;
  writeQueued = false;
  /** Polling for the event is paused until the queued callback has run (no busy loop while the loop is stopped). */
  readPaused = false;
  writePaused = false;
  /** Events the poll handle watches now. */
  events = 0;

  constructor(
    readonly loop: EventLoop,
    readonly fd: number,
    readonly poll: NativePoll,
    /** Polls a Socket's own fd (kept until the Socket closes), not a duplicate. */
    readonly direct: boolean,
    /** The duplicate's identity `[st_dev, st_ino]`, to notice the fd number being reused. */
    readonly identity: readonly [number, number] | null,
  ) {}
}

const watchesByLoop = new WeakMap<EventLoop, Map<number, FdWatch>>();
/** Direct watches by fd, to drop them when their Socket closes. */
const directWatches = new Map<number, FdWatch>();

let native: NativeBinding | null = null;
function bindingFor(feature: string): NativeBinding {
  return native ?? (native = nativeBinding(feature));
}

function isUserCallback(slot: Slot): slot is UserCallback {
  return slot instanceof UserCallback;
}

function onPoll(this: NativePoll, status: number, events: number): void {
  const w = (this as NativePoll & { [kWatch]?: FdWatch })[kWatch];
  if (w === undefined) return;
  if (status < 0) {
    // libuv stopped the handle on POLLERR: run both sides (the call reports the error), as asyncio's selector does.
    events = READ | WRITE;
    w.events = 0;
  }
  // Readable with no reader: the lazily kept read interest is stopped now.
  const idleRead = (events & READ) !== 0 && w.reader === null;
  if (events & READ && w.reader !== null) dispatch(w, w.reader, READ);
  if (events & WRITE && w.writer !== null) dispatch(w, w.writer, WRITE);
  refresh(w, w.direct && !idleRead);
}

/** Queues a user callback (once until it ran; a repeat pauses polling for that event) or runs a sock* waiter. */
function dispatch(w: FdWatch, slot: UserCallback | DirectWaiter, event: number): void {
  if (!isUserCallback(slot)) return runDirect(w, slot);
  const queued = event === READ ? w.readQueued : w.writeQueued;
  if (queued) {
    if (event === READ) w.readPaused = true;
    else w.writePaused = true;
    return;
  }
  if (event === READ) w.readQueued = true;
  else w.writeQueued = true;
  slot.queued = callSoonUnchecked(w.loop, runQueued as LoopCallback, [w, slot, event]);
}

function runDirect(w: FdWatch, waiter: DirectWaiter): void {
  try {
    waiter.run();
  } catch (exception) {
    w.loop.callExceptionHandler({ message: `Exception in an fd waiter of fd ${w.fd}`, exception });
  }
}

/** Runs as a loop callback: an exception goes to the loop's exception handler. */
function runQueued(w: FdWatch, slot: UserCallback, event: number): void {
  if (event === READ) {
    w.readQueued = false;
    w.readPaused = false;
  } else {
    w.writeQueued = false;
    w.writePaused = false;
  }
  slot.queued = null;
  refresh(w);
  if (!slot.cancelled) slot.callback(...slot.args);
}

/**
 * Makes the poll watch the events that have a callback (and are not paused).
 * `keepRead`: a Socket's read interest outlives its reader until a readiness
 * finds no reader, saving two epoll_ctl calls per wait in a sockRecv loop.
 */
function refresh(w: FdWatch, keepRead = false): void {
  if (w.poll.fd < 0) return;
  let wanted = (w.reader !== null && !w.readPaused ? READ : 0) | (w.writer !== null && !w.writePaused ? WRITE : 0);
  if (keepRead && (w.events & READ) !== 0 && !w.readPaused) wanted |= READ;
  if (wanted === w.events) return;
  if (wanted === 0) {
    w.poll.stop();
    w.events = 0;
    return;
  }
  const rc = w.poll.start(wanted);
  w.events = rc === 0 ? wanted : 0;
}

function sameIdentity(b: NativeBinding, fd: number, identity: readonly [number, number] | null): boolean {
  if (identity === null) return true;
  const st = b.fdstat(fd);
  return typeof st !== 'number' && st[0] === identity[0] && st[1] === identity[1];
}

/** The watch of `fd` on `loop`, made if needed (throws a system error for a closed or unpollable fd). */
function watchFor(loop: EventLoop, fd: number, method: string): FdWatch {
  const b = bindingFor(`loop.${method}()`);
  let watches = watchesByLoop.get(loop);
  if (watches === undefined) watchesByLoop.set(loop, (watches = new Map()));
  const existing = watches.get(fd);
  if (existing !== undefined) {
    if (sameIdentity(b, fd, existing.identity)) return existing;
    // The fd was closed behind the loop's back and its number reused: the old watch is stale.
    closeWatch(existing);
  }
  let w: FdWatch;
  if (openSockets.has(fd)) {
    const poll = new b.Poll(fd, onPoll, false);
    w = new FdWatch(loop, fd, poll, true, null);
    directWatches.set(fd, w);
  } else {
    const dup = b.dup(fd);
    if (dup < 0) throw systemError(dup, method);
    let poll: NativePoll;
    try {
      poll = new b.Poll(dup, onPoll, true);
    } catch (error) {
      b.close(dup);
      throw error;
    }
    const st = b.fdstat(dup);
    w = new FdWatch(loop, fd, poll, false, typeof st === 'number' ? null : [st[0], st[1]]);
  }
  (w.poll as NativePoll & { [kWatch]?: FdWatch })[kWatch] = w;
  watches.set(fd, w);
  return w;
}

function closeWatch(w: FdWatch): void {
  if (isUserCallback(w.reader)) w.reader.cancel();
  if (isUserCallback(w.writer)) w.writer.cancel();
  w.reader = null;
  w.writer = null;
  w.poll.close();
  watchesByLoop.get(w.loop)?.delete(w.fd);
  if (w.direct && directWatches.get(w.fd) === w) directWatches.delete(w.fd);
}

/** Drops a dup'd watch with no callback left (a direct one stays, stopped, until its Socket closes). */
function releaseIfIdle(w: FdWatch): void {
  refresh(w, w.direct);
  if (!w.direct && w.reader === null && w.writer === null) closeWatch(w);
}

function setSlot(loop: EventLoop, fd: number, event: number, slot: UserCallback | DirectWaiter, method: string): void {
  const w = watchFor(loop, fd, method);
  const previous = event === READ ? w.reader : w.writer;
  if (event === READ) w.reader = slot;
  else w.writer = slot;
  if (isUserCallback(previous)) previous.cancel();
  refresh(w);
  if (w.events & event || (event === READ ? w.readPaused : w.writePaused)) return;
  // start() failed: the fd was closed since the watch was made.
  if (event === READ) w.reader = null;
  else w.writer = null;
  releaseIfIdle(w);
  throw systemError(-9, method);
}

function clearSlot(loop: EventLoop, fd: number, event: number, only?: DirectWaiter): boolean {
  const w = watchesByLoop.get(loop)?.get(fd);
  if (w === undefined) return false;
  const slot = event === READ ? w.reader : w.writer;
  if (slot === null || (only !== undefined && slot !== only)) return false;
  if (event === READ) w.reader = null;
  else w.writer = null;
  if (isUserCallback(slot)) slot.cancel();
  releaseIfIdle(w);
  return true;
}

/** asyncio's `loop.add_reader(fd, callback, *args)`: calls `callback(...args)` whenever `fd` is readable. Replaces a reader already on `fd`. */
export function addReader(loop: EventLoop, fd: FileLike, callback: (...args: never[]) => void, args: unknown[]): void {
  addCallback(loop, fd, READ, callback, args, 'addReader');
}

/** asyncio's `loop.add_writer(fd, callback, *args)`. */
export function addWriter(loop: EventLoop, fd: FileLike, callback: (...args: never[]) => void, args: unknown[]): void {
  addCallback(loop, fd, WRITE, callback, args, 'addWriter');
}

function addCallback(loop: EventLoop, fileobj: FileLike, event: number, callback: unknown, args: unknown[], method: string): void {
  checkClosed(loop);
  const fd = fileobjToFd(fileobj, method);
  if (typeof callback !== 'function') throw new TypeError(`${method}(): the callback must be a function, got ${typeof callback}`);
  setSlot(loop, fd, event, new UserCallback(callback as (...args: unknown[]) => void, args), method);
}

/** asyncio's `loop.remove_reader(fd)`: whether a reader was removed. */
export function removeReader(loop: EventLoop, fd: FileLike): boolean {
  if (loop.isClosed()) return false;
  return clearSlot(loop, fileobjToFd(fd, 'removeReader'), READ);
}

/** asyncio's `loop.remove_writer(fd)`: whether a writer was removed. */
export function removeWriter(loop: EventLoop, fd: FileLike): boolean {
  if (loop.isClosed()) return false;
  return clearSlot(loop, fileobjToFd(fd, 'removeWriter'), WRITE);
}

/** @internal A sock* method waits for `event` on `fd` (replacing any callback there, as asyncio does). */
export function addWaiter(loop: EventLoop, fd: number, event: number, waiter: DirectWaiter, method: string): void {
  setSlot(loop, fd, event, waiter, method);
}

/** @internal Removes `waiter` if it is still the one registered. */
export function removeWaiter(loop: EventLoop, fd: number, event: number, waiter: DirectWaiter): void {
  clearSlot(loop, fd, event, waiter);
}

/** @internal Whether `fd` has a reader / writer on `loop` (tests and debugging). */
export function _watching(loop: EventLoop, fd: number): { reader: boolean; writer: boolean } | null {
  const w = watchesByLoop.get(loop)?.get(fd);
  return w === undefined ? null : { reader: w.reader !== null, writer: w.writer !== null };
}

onLoopClose((loop) => {
  const watches = watchesByLoop.get(loop);
  if (watches === undefined) return;
  for (const w of [...watches.values()]) closeWatch(w);
  watchesByLoop.delete(loop);
});

beforeSocketClose.push((fd) => {
  const w = directWatches.get(fd);
  if (w === undefined) return;
  // Pending sock* waits retry once on the closed socket and fail with EBADF.
  const waiters = [w.reader, w.writer].filter((slot): slot is DirectWaiter => slot !== null && !isUserCallback(slot));
  closeWatch(w);
  if (!w.loop.isClosed()) for (const waiter of waiters) runDirect(w, waiter);
});
