import net from 'node:net';
import { onTestFinished } from 'vitest';
import { EventLoop } from '../src/index.js';

/** A new loop (debug off) that is closed when the current test finishes, unless still running. */
export function newLoop(): EventLoop {
  const loop = new EventLoop({ debug: false });
  onTestFinished(() => {
    if (!loop.isRunning()) loop.close();
  });
  return loop;
}

/**
 * A loop on a virtual clock: when nothing is ready it jumps straight to the next
 * timer instead of waiting, so timers fire in exact deadline order however
 * loaded the machine is (what `@aioloop/testing`'s TestLoop does, kept minimal
 * here because core's tests cannot depend on that package).
 */
export class VirtualClockLoop extends EventLoop {
  private now = 0;

  override time(): number {
    return this.now;
  }

  protected override onIdle(delaySeconds: number): void {
    if (delaySeconds === Infinity) return;
    this.now += delaySeconds;
    this.wakeup();
  }
}

/** A {@link VirtualClockLoop} closed when the current test finishes. */
export function newVirtualLoop(): EventLoop {
  const loop = new VirtualClockLoop({ debug: false });
  onTestFinished(() => {
    if (!loop.isRunning()) loop.close();
  });
  return loop;
}

/** The error `p` rejects with; fails the test if it resolves. */
export async function caught(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but it resolved');
}

/**
 * A TCP connection on `host` (127.0.0.1 or ::1): the client socket and the
 * server's accepted one (with `pauseOnConnect`, not reading yet, as
 * @aioloop/net's servers get them). Both are destroyed when the test finishes.
 */
export async function connectedPair(
  host = '127.0.0.1',
  options: { pauseOnConnect?: boolean; client?: Partial<net.TcpNetConnectOpts> } = {},
): Promise<{ client: net.Socket; accepted: net.Socket }> {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: options.pauseOnConnect === true });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepting = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect({ host, port, allowHalfOpen: true, ...options.client });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  const accepted = await accepting;
  server.close();
  onTestFinished(() => {
    client.destroy();
    accepted.destroy();
  });
  return { client, accepted };
}
