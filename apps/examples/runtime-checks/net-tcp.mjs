// @aioloop/net: a TCP echo over 127.0.0.1 with createServer and createConnection.
import { EventLoop } from '@aioloop/core';
import '@aioloop/net';
import { pingThroughEcho } from './echo.mjs';

const loop = new EventLoop();
const echoed = await loop.runUntilComplete(() =>
  pingThroughEcho(
    loop,
    (factory) => loop.createServer(factory, '127.0.0.1', 0),
    (server, factory) => loop.createConnection(factory, ...server.sockets[0].getsockname()),
  ),
);
loop.close();
if (echoed !== 'ping') throw new Error(`got ${echoed}`);
console.log('ok: TCP echo over 127.0.0.1');
