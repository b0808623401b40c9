// @aioloop/testing: an hour of virtual time on a TestLoop, and an in-memory stream pair.
import { sleep } from '@aioloop/core';
import { RecordingProtocol, TestLoop, createStreamPair } from '@aioloop/testing';

const loop = new TestLoop();
const [slept, received] = await loop.runUntilComplete(async () => {
  const start = loop.time();
  await sleep(3600);
  const [[clientTransport], [serverTransport, server]] = await createStreamPair(
    loop,
    () => new RecordingProtocol(),
    () => new RecordingProtocol(),
  );
  clientTransport.write(Buffer.from('ping'));
  await sleep(0.1);
  const got = server.received().toString();
  clientTransport.close();
  serverTransport.close();
  await sleep(0.1);
  return [loop.time() - start, got];
});
loop.close();
if (slept < 3600 || received !== 'ping') throw new Error(`got ${JSON.stringify([slept, received])}`);
console.log('ok: TestLoop virtual time and an in-memory stream pair');
