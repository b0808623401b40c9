import { sleep, waitFor, type EventLoop } from '@aioloop/core';
import { LineClientProtocol } from './protocol.js';

/** What a ping session saw. */
export interface SessionStats {
  /** Requests answered correctly. */
  ok: number;
  /** Requests that got no answer in time (the connection was then dropped). */
  timeouts: number;
  /** Requests lost with their connection. */
  lost: number;
  /** Successful connects. */
  connects: number;
  /** Failed connect attempts. */
  connectFailures: number;
  /** Answers that did not match the request (must stay 0). */
  wrong: number;
}

/** Options of {@link pingSession}. */
export interface SessionOptions {
  /** How many pings to send (default 10). */
  count?: number;
  /** Seconds between pings (default 1). */
  interval?: number;
  /** Seconds to wait for each answer (default 5). */
  timeout?: number;
}

/**
 * Production client code: pings `host:port` once per `interval`, reconnecting
 * whenever the connection breaks or an answer is late. It only uses
 * `loop.createConnection`, so the same code runs on real TCP and on a
 * simulated network.
 */
export async function pingSession(loop: EventLoop, host: string, port: number, options: SessionOptions = {}): Promise<SessionStats> {
  const { count = 10, interval = 1, timeout = 5 } = options;
  const stats: SessionStats = { ok: 0, timeouts: 0, lost: 0, connects: 0, connectFailures: 0, wrong: 0 };
  let client: LineClientProtocol | null = null;
  for (let i = 0; i < count; i++) {
    if (client === null || client.isClosed) {
      try {
        const [, protocol] = await loop.createConnection(() => new LineClientProtocol(loop), host, port);
        client = protocol;
        stats.connects++;
      } catch {
        stats.connectFailures++;
        client = null;
        await sleep(interval);
        continue;
      }
    }
    try {
      const answer = await client.request(`PING ${i}`, timeout);
      if (answer === `PONG ${i}`) stats.ok++;
      else stats.wrong++;
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') stats.timeouts++;
      else stats.lost++;
      client.abort();
      client = null;
    }
    await sleep(interval);
  }
  if (client !== null && !client.isClosed) {
    const bye = await client.request('QUIT', timeout).catch(() => null);
    if (bye !== 'BYE') client.abort();
    else await waitFor(client.waitClosed(), timeout).catch(() => client?.abort());
  }
  return stats;
}
