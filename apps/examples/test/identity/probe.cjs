// Shared by the identity fixtures: a loop from `core` must have @aioloop/net's
// methods (not the MissingPackageError stubs) and serve on 127.0.0.1.
'use strict';

async function probe(core, how) {
  const provider = core.loopMethodProvider('createServer');
  if (provider !== '@aioloop/net') throw new Error(`${how}: loop.createServer is provided by ${provider}, expected @aioloop/net`);
  const loop = new core.EventLoop();
  try {
    const port = await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new core.Protocol(), '127.0.0.1', 0);
      const address = server.sockets[0].getsockname();
      server.close();
      await server.waitClosed();
      return address[1];
    });
    if (typeof port !== 'number') throw new Error(`${how}: createServer listened without a port`);
  } finally {
    loop.close();
  }
  console.log(`ok: ${how}`);
}

module.exports = { probe };
