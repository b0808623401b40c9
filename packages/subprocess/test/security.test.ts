/**
 * Security defaults and faults: subprocessExec runs the program itself with its
 * arguments as they are, never through a shell; a child that exits while we
 * still write to it breaks the pipe cleanly.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { wrapFuture } from '@aioloop/core';
import '../src/index.js';
import { Recorder, closeLoops, newLoop } from './helpers.js';

afterEach(closeLoops);

describe('subprocessExec never uses a shell', () => {
  it('passes shell syntax in arguments through literally and runs none of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aioloop-noshell-'));
    const marker = join(dir, 'pwned');
    try {
      const loop = newLoop();
      const hostile = [`$(touch ${marker})`, `; touch ${marker}`, `| touch ${marker}`, `\`touch ${marker}\``, '*', '$HOME', `&& touch ${marker}`];
      await loop.runUntilComplete(async () => {
        const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), '/usr/bin/printf', ['%s\\n', ...hostile]);
        await wrapFuture(protocol.done);
        expect(transport.getReturncode()).toBe(0);
        expect(protocol.output(1).toString()).toBe(hostile.map((a) => `${a}\n`).join(''));
      });
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('treats a program name with shell syntax as a file name (ENOENT), not a command line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aioloop-noshell-'));
    const marker = join(dir, 'pwned');
    try {
      const loop = newLoop();
      const error = await loop
        .runUntilComplete(() => loop.subprocessExec(() => new Recorder(), `/bin/true; touch ${marker}`, []))
        .then(
          () => null,
          (e: unknown) => e as NodeJS.ErrnoException,
        );
      expect(error?.code).toBe('ENOENT');
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a child that dies mid-pipe', () => {
  it('stdin gets a broken pipe once, the rest is reported in order, and the transport still finishes', async () => {
    const loop = newLoop();
    await loop.runUntilComplete(async () => {
      // head exits after 10 bytes while 8 MiB are still being written to it.
      const [transport, protocol] = await loop.subprocessExec(() => new Recorder(), '/usr/bin/head', ['-c', '10']);
      const stdin = transport.getPipeTransport(0) as { write(b: Buffer): void; isClosing(): boolean };
      stdin.write(Buffer.alloc(8 * 1024 * 1024, 0x61));
      await wrapFuture(protocol.done);
      expect(transport.getReturncode()).toBe(0);
      expect(protocol.output(1).toString()).toBe('a'.repeat(10));
      const stdinLost = protocol.events.filter((e) => e.startsWith('pipeConnectionLost0:'));
      expect(stdinLost).toHaveLength(1);
      expect(stdinLost[0]).toBe('pipeConnectionLost0:EPIPE'); // 8 MiB cannot fit in the pipe before head exits
      expect(protocol.events.filter((e) => e.startsWith('connectionLost:'))).toHaveLength(1);
      expect(protocol.events.at(-1)).toMatch(/^connectionLost:/);
      expect(() => stdin.write(Buffer.from('more'))).not.toThrow();
    });
  });
});
