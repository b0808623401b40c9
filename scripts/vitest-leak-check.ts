/**
 * A vitest setup file (see vitest.shared.ts): after each test file, fails it if
 * it left more active handles (`process.getActiveResourcesInfo()`) or open file
 * descriptors (`/proc/self/fd`) than it started with, raised an unhandled
 * rejection, or logged a never-retrieved future exception. Node closes handles
 * in later turns, so it waits (bounded) for them to settle before it judges.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';

/** Real time allowed for handles and fds to close after the file's last test. */
const SETTLE_MS = 3000;

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

function openFds(): Map<string, string> {
  const fds = new Map<string, string>();
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return fds; // not Linux: no fd accounting
  }
  for (const fd of entries) {
    try {
      fds.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the directory's own fd, already closed
    }
  }
  return fds;
}

function excessResources(before: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [name, count] of resourceCounts()) {
    const extra = count - (before.get(name) ?? 0);
    if (extra > 0) out.push(`${extra} × ${name}`);
  }
  return out;
}

function excessFds(before: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [fd, target] of openFds()) if (before.get(fd) !== target) out.push(`fd ${fd} -> ${target}`);
  return out;
}

let resourcesBefore = new Map<string, number>();
let fdsBefore = new Map<string, string>();
const unhandled: unknown[] = [];
const neverRetrieved: string[] = [];

const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

// The loop's default exception handler logs through console.error.
const realConsoleError = console.error;

beforeAll(() => {
  resourcesBefore = resourceCounts();
  fdsBefore = openFds();
  process.on('unhandledRejection', onUnhandled);
  console.error = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (/exception was never retrieved/.test(text)) neverRetrieved.push(text.split('\n')[0]!);
    realConsoleError.apply(console, args);
  };
});

afterAll(async () => {
  // Futures dropped by the file report never-retrieved exceptions when collected.
  (globalThis as { gc?: () => void }).gc?.();
  let resources: string[] = [];
  let fds: string[] = [];
  for (let waited = 0; ; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    resources = excessResources(resourcesBefore);
    fds = excessFds(fdsBefore);
    if ((resources.length === 0 && fds.length === 0) || waited >= SETTLE_MS) break;
  }
  process.off('unhandledRejection', onUnhandled);
  console.error = realConsoleError;
  const problems: string[] = [];
  if (resources.length > 0) problems.push(`active handles left open: ${resources.join(', ')}`);
  if (fds.length > 0) problems.push(`file descriptors left open: ${fds.join(', ')}`);
  if (unhandled.length > 0) problems.push(`unhandled rejections: ${unhandled.map(String).join('; ')}`);
  if (neverRetrieved.length > 0) problems.push(`never-retrieved exceptions logged: ${neverRetrieved.join('; ')}`);
  if (problems.length > 0) throw new Error(`leak check (after ${SETTLE_MS} ms to settle): ${problems.join('\n')}`);
}, SETTLE_MS + 10_000);
