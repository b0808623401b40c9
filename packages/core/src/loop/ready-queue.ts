import type { Handle } from './handles.js';

/**
 * @internal The loop's ready queue: a growable ring buffer of handles, so pushing
 * and shifting never allocates once it has grown to the working size.
 */
export class ReadyQueue {
  private buffer: (Handle | undefined)[];
  private head = 0;
  private size = 0;
  private mask: number;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity <<= 1;
    this.buffer = new Array<Handle | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  get length(): number {
    return this.size;
  }

  push(handle: Handle): void {
    if (this.size === this.buffer.length) this.grow();
    this.buffer[(this.head + this.size) & this.mask] = handle;
    this.size++;
  }

  /** Removes and returns the oldest handle; the caller checks `length` first. */
  shift(): Handle {
    const handle = this.buffer[this.head] as Handle;
    this.buffer[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    return handle;
  }

  clear(): void {
    this.buffer.fill(undefined);
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const old = this.buffer;
    const capacity = old.length * 2;
    const next = new Array<Handle | undefined>(capacity).fill(undefined);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & this.mask];
    this.buffer = next;
    this.head = 0;
    this.mask = capacity - 1;
  }
}
