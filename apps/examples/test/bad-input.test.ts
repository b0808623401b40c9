/**
 * docs/bad-input.md, row by row: each call throws (or rejects) with the error
 * class and the exact message the table gives. A row without a call here, or a
 * call here without a row, fails too, so the table and the code stay in step.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLoop, Future, Protocol, gather, shield, sleep, waitFor } from '@aioloop/core';
import { StreamReader, getaddrinfo, openConnection, startServer } from '@aioloop/net';
import '@aioloop/subprocess';
import '@aioloop/signals';
import { SeededRandom, TestLoop, createStreamPair } from '@aioloop/testing';

const loop = new EventLoop();
afterAll(() => loop.close());
const cb = (): void => {};
const f = (): Protocol => new Protocol();
const host = '127.0.0.1';

/** The calls of the table, by the text of their first column. */
const calls: Record<string, () => unknown> = {
  'loop.callSoon(42)': () => loop.callSoon(42 as never),
  'loop.callLater(NaN, cb)': () => loop.callLater(NaN, cb),
  "loop.callLater('1', cb)": () => loop.callLater('1' as never, cb),
  'loop.callLater(1, null)': () => loop.callLater(1, null as never),
  'loop.callAt(NaN, cb)': () => loop.callAt(NaN, cb),
  'loop.callSoonThreadsafe(null)': () => loop.callSoonThreadsafe(null as never),
  'loop.createTask(promise)': () => loop.createTask(Promise.resolve() as never),
  'loop.createTask(fn, { name: 5 })': () => loop.createTask(async () => {}, { name: 5 } as never),
  'loop.setExceptionHandler(5)': () => loop.setExceptionHandler(5 as never),
  'loop.setDebug("yes")': () => loop.setDebug('yes' as never),
  'loop.callExceptionHandler({})': () => loop.callExceptionHandler({} as never),
  'new Future(loop).setResult(1) twice': () => {
    const future = new Future<number>(loop);
    future.setResult(1);
    future.setResult(2);
  },
  'new Future(loop).result() while pending': () => new Future(loop).result(),
  'future.addDoneCallback(5)': () => new Future(loop).addDoneCallback(5 as never),
  "sleep('1')": () => sleep('1' as never),
  'gather(5)': () => gather(5 as never),
  'shield(5)': () => shield(5 as never),
  'waitFor(p, "x")': () => waitFor(Promise.resolve() as never, 'x' as never),
  'loop.createServer("nope", host, 0)': () => loop.createServer('nope' as never, host, 0),
  'loop.createServer(f, host, 0, { backlog: -1 })': () => loop.createServer(f, host, 0, { backlog: -1 }),
  'loop.createConnection(f, host, 70000)': () => loop.createConnection(f, host, 70000),
  'loop.createUnixServer(f, "")': () => loop.createUnixServer(f, ''),
  'startServer("nope", host, 0)': () => startServer('nope' as never, host, 0),
  'openConnection(host, 8888, { limit: 0 })': () => openConnection(host, 8888, { limit: 0 }),
  'openConnection(host, 8888)': () => openConnection(host, 8888),
  'new StreamReader({ loop, limit: -1 })': () => new StreamReader({ loop, limit: -1 }),
  'getaddrinfo(5, 80)': () => getaddrinfo(5 as never, 80),
  'loop.subprocessExec(f, 42)': () => loop.subprocessExec(f as never, 42 as never),
  'loop.addSignalHandler("SIGNOPE", cb)': () => loop.addSignalHandler('SIGNOPE' as never, cb),
  'loop.addSignalHandler("SIGKILL", cb)': () => loop.addSignalHandler('SIGKILL', cb),
  'new TestLoop().advance(-1)': () => {
    const testLoop = new TestLoop();
    return testLoop.advance(-1).finally(() => testLoop.close());
  },
  'createStreamPair(loop, 5, f)': () => createStreamPair(loop, 5 as never, f),
  'new SeededRandom(1.5)': () => new SeededRandom(1.5),
};

interface Row {
  call: string;
  mode: 'throws' | 'rejects';
  errorClass: string;
  message: string;
}

const doc = readFileSync(fileURLToPath(new URL('../../../docs/bad-input.md', import.meta.url)), 'utf8');
const rows: Row[] = [];
for (const line of doc.split('\n')) {
  const m = /^\| `(.+?)` \| (throws|rejects) \| `(\w+)` \| (.*) \|$/.exec(line);
  if (m) rows.push({ call: m[1]!, mode: m[2] as Row['mode'], errorClass: m[3]!, message: m[4]!.replace(/\\\|/g, '|') });
}

describe('docs/bad-input.md', () => {
  it('has a row for every call tested here and a call for every row', () => {
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.call).sort()).toEqual(Object.keys(calls).sort());
  });

  it.each(rows)('$call $mode $errorClass', async (row) => {
    const call = calls[row.call];
    expect(call, `no call for the row ${row.call}`).toBeDefined();
    let error: unknown = null;
    let returned: unknown;
    try {
      returned = call!();
    } catch (e) {
      error = e;
    }
    if (row.mode === 'throws') {
      expect(error, `${row.call} did not throw`).not.toBeNull();
    } else {
      expect(error, `${row.call} threw instead of rejecting`).toBeNull();
      error = await Promise.resolve(returned).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, `${row.call} did not reject`).not.toBeNull();
    }
    expect((error as Error).constructor.name).toBe(row.errorClass);
    expect((error as Error).message).toBe(row.message);
  });
});
