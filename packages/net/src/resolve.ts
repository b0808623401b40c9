/**
 * Resolution through the loop instance, as asyncio's `_ensure_resolved`:
 * every method that takes a host asks `loop.getaddrinfo`, so a resolver
 * installed on one loop (a test mapping names to local ports, a DNS-over-HTTPS
 * plugin) is what those methods use. Numeric hosts with numeric ports skip it,
 * as asyncio's `_ipaddr_info` does.
 */
import { describeValue } from '@aioloop/core';
import net from 'node:net';
import type { EventLoop } from '@aioloop/core';
import { getaddrinfo, type AddrInfo, type GetaddrinfoOptions, type PortLike } from './dns.js';
// The loop methods must be installed wherever resolution runs (also when a module is imported on its own).
import './loop-methods.js';

/** The `getaddrinfo` a loop carries (the installed method, or a replacement assigned on the instance). */
type LoopGetaddrinfo = (host: string | null | undefined, port: PortLike, options?: GetaddrinfoOptions) => PromiseLike<AddrInfo[]> | AddrInfo[];

function isNumericPort(port: PortLike): boolean {
  if (port === null || port === undefined || typeof port === 'number') return true;
  return /^[0-9]+$/.test(port);
}

/**
 * Resolves `host`:`port` with `loop.getaddrinfo` (looked up on the instance at
 * each call), except an IP literal with a numeric port, which is answered
 * without asking any resolver. Rejects with the resolver's error; a resolver
 * that returns something other than an array of getaddrinfo entries is a
 * TypeError naming it.
 */
export async function ensureResolved(loop: EventLoop, host: string | null | undefined, port: PortLike, hints: GetaddrinfoOptions): Promise<AddrInfo[]> {
  if (host !== null && host !== undefined && net.isIP(host) !== 0 && isNumericPort(port)) return getaddrinfo(host, port, hints);
  const resolver = (loop as unknown as { getaddrinfo?: unknown }).getaddrinfo;
  if (typeof resolver !== 'function') throw new TypeError(`loop.getaddrinfo must be a function, got ${describeValue(resolver)}`);
  const infos: unknown = await (resolver as LoopGetaddrinfo).call(loop, host, port, hints);
  if (!Array.isArray(infos) || !infos.every((info) => Array.isArray(info) && Array.isArray(info[4]) && typeof info[4][0] === 'string')) {
    throw new TypeError(`loop.getaddrinfo(${describeValue(host)}, ${describeValue(port)}) must resolve to [family, type, proto, canonname, sockaddr] entries, got ${describeValue(infos)}`);
  }
  return infos as AddrInfo[];
}
