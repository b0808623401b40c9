/**
 * Security defaults: subprocessExec runs the program itself with its arguments
 * as they are, never through a shell.
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
