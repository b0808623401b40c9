import type { TimerHandle } from './handles.js';

function earlier(a: TimerHandle, b: TimerHandle): boolean {
  return a._when < b._when || (a._when === b._when && a._seq < b._seq);
}

/**
 * @internal A binary min-heap of timers ordered by (deadline, scheduling order):
 * equal deadlines pop in FIFO order, which deterministic replay relies on.
 */
export class TimerHeap {
  private items: TimerHandle[] = [];

  get length(): number {
    return this.items.length;
  }

  peek(): TimerHandle | undefined {
    return this.items[0];
  }

  push(timer: TimerHandle): void {
    const items = this.items;
    let index = items.length;
    items.push(timer);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentItem = items[parent] as TimerHandle;
      if (!earlier(timer, parentItem)) break;
      items[index] = parentItem;
      index = parent;
    }
    items[index] = timer;
  }

  pop(): TimerHandle | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) this.siftDown(0, last);
    return top;
  }

  /** Drops every timer for which `keep` is false, then restores heap order in O(n). */
  filter(keep: (timer: TimerHandle) => boolean): void {
    const items = this.items.filter(keep);
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.siftDown(i, items[i] as TimerHandle);
  }

  clear(): TimerHandle[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  private siftDown(start: number, item: TimerHandle): void {
    const items = this.items;
    const length = items.length;
    let index = start;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && earlier(items[right] as TimerHandle, items[child] as TimerHandle)) child = right;
      const childItem = items[child] as TimerHandle;
      if (!earlier(childItem, item)) break;
      items[index] = childItem;
      index = child;
    }
    items[index] = item;
  }
}
