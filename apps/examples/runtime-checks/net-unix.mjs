// @aioloop/net: a Unix socket echo with createUnixServer and createUnixConnection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLoop } from '@aioloop/core';
import '@aioloop/net';
import { pingThroughEcho } from './echo.mjs';

const dir = mkdtempSync(join(tmpdir(), 'aioloop-check-'));
const path = join(dir, 'echo.sock');
const loop = new EventLoop();
try {
  const echoed = await loop.runUntilComplete(() =>
    pingThroughEcho(
      loop,
      (factory) => loop.createUnixServer(factory, path),
      (_server, factory) => loop.createUnixConnection(factory, path),
    ),
  );
  if (echoed !== 'ping') throw new Error(`got ${echoed}`);
} finally {
  loop.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log('ok: Unix socket echo');
