import type { TimerHandle } from './handles.js';

/**
 * @internal The loop's timers: a 4-ary min-heap ordered by (deadline, scheduling
 * order), so equal deadlines pop in FIFO order, which deterministic replay
 * relies on. Keys live in typed arrays beside the handles: sifting compares
 * contiguous numbers instead of chasing a pointer per comparison, which is what
 * makes a million pending timers cheap.
 */
export class TimerHeap {
  private handles: (TimerHandle | undefined)[] = [];
  private whens = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private size = 0;

  get length(): number {
    return this.size;
  }

  peek(): TimerHandle | undefined {
    return this.size > 0 ? this.handles[0] : undefined;
  }

  /** The earliest deadline, or Infinity when empty. */
  peekWhen(): number {
    return this.size > 0 ? (this.whens[0] as number) : Infinity;
  }

  push(timer: TimerHandle): void {
    if (this.size === this.whens.length) this.grow();
    this.siftUp(this.size++, timer, timer._when, timer._seq);
  }

  pop(): TimerHandle | undefined {
    if (this.size === 0) return undefined;
    const handles = this.handles;
    const top = handles[0];
    const last = --this.size;
    if (last > 0) {
      const item = handles[last] as TimerHandle;
      const when = this.whens[last] as number;
      const seq = this.seqs[last] as number;
      handles[last] = undefined;
      this.siftDown(0, item, when, seq);
    } else {
      handles[0] = undefined;
    }
    return top;
  }

  /** Drops every timer for which `keep` is false, then restores heap order in O(n). */
  filter(keep: (timer: TimerHandle) => boolean): void {
    const kept = this.handles.slice(0, this.size).filter((t) => keep(t as TimerHandle)) as TimerHandle[];
    this.handles = kept;
    this.size = kept.length;
    for (let i = 0; i < kept.length; i++) {
      const t = kept[i] as TimerHandle;
      this.whens[i] = t._when;
      this.seqs[i] = t._seq;
    }
    for (let i = (this.size >> 2) ; i >= 0; i--) {
      if (i < this.size) this.siftDown(i, kept[i] as TimerHandle, this.whens[i] as number, this.seqs[i] as number);
    }
  }

  clear(): TimerHandle[] {
    const items = this.handles.slice(0, this.size) as TimerHandle[];
    this.handles = [];
    this.size = 0;
    return items;
  }

  private grow(): void {
    const whens = new Float64Array(this.whens.length * 2);
    whens.set(this.whens);
    this.whens = whens;
    const seqs = new Float64Array(this.seqs.length * 2);
    seqs.set(this.seqs);
    this.seqs = seqs;
  }

  private siftUp(start: number, item: TimerHandle, when: number, seq: number): void {
    const handles = this.handles;
    const whens = this.whens;
    const seqs = this.seqs;
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 2;
      const pw = whens[parent] as number;
      if (pw < when || (pw === when && (seqs[parent] as number) < seq)) break;
      handles[index] = handles[parent];
      whens[index] = pw;
      seqs[index] = seqs[parent] as number;
      index = parent;
    }
    handles[index] = item;
    whens[index] = when;
    seqs[index] = seq;
  }

  private siftDown(start: number, item: TimerHandle, when: number, seq: number): void {
    const handles = this.handles;
    const whens = this.whens;
    const seqs = this.seqs;
    const size = this.size;
    let index = start;
    for (;;) {
      const first = 4 * index + 1;
      if (first >= size) break;
      // Smallest of up to four children.
      let best = first;
      let bw = whens[first] as number;
      let bs = seqs[first] as number;
      const end = first + 4 < size ? first + 4 : size;
      for (let c = first + 1; c < end; c++) {
        const cw = whens[c] as number;
        if (cw < bw || (cw === bw && (seqs[c] as number) < bs)) {
          best = c;
          bw = cw;
          bs = seqs[c] as number;
        }
      }
      if (when < bw || (when === bw && seq < bs)) break;
      handles[index] = handles[best];
      whens[index] = bw;
      seqs[index] = bs;
      index = best;
    }
    handles[index] = item;
    whens[index] = when;
    seqs[index] = seq;
  }
}
