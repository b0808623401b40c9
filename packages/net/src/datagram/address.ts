/**
 * Datagram addresses in Python's shapes: `[host, port]` for AF_INET,
 * `[host, port, flowinfo, scopeId]` for AF_INET6, a path string for AF_UNIX.
 */
import type { DatagramAddress } from '@aioloop/core';
import { describeValue } from '@aioloop/core';

/**
 * Per-datagram overhead counted in the write-buffer size, as CPython 3.12+
 * counts it (the UDP header), so that a burst of empty datagrams still
 * reaches the high-water mark.
 */
export const DATAGRAM_HEADER_SIZE = 8;

/** How many peers of one host {@link AddressCache} remembers before it starts over. */
const CACHED_PORTS = 1024;

/**
 * Builds the sender addresses of one endpoint, reusing the tuple of a peer
 * seen before (the same host, a port remembered): a receive from a known
 * peer allocates no address. The tuples are frozen, so sharing them is safe.
 */
export class AddressCache {
  private host = '';
  private byPort = new Map<number, DatagramAddress>();

  constructor(private readonly ipv6: boolean) {}

  /** The Python-shaped address of `host`/`port`. */
  get(host: string, port: number): DatagramAddress {
    if (host !== this.host) {
      this.host = host;
      this.byPort.clear();
    } else {
      const known = this.byPort.get(port);
      if (known !== undefined) return known;
      if (this.byPort.size >= CACHED_PORTS) this.byPort.clear();
    }
    const addr: DatagramAddress = this.ipv6 ? Object.freeze([host, port, 0, 0] as const) : Object.freeze([host, port] as const);
    this.byPort.set(port, addr);
    return addr;
  }
}

/** Whether two addresses are equal element by element (Python's tuple equality). */
export function sameAddress(a: DatagramAddress, b: DatagramAddress): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Shows an address in an error message. */
export function showAddress(addr: unknown): string {
  if (typeof addr === 'string') return JSON.stringify(addr);
  if (Array.isArray(addr)) return `[${addr.map((item) => (typeof item === 'string' ? JSON.stringify(item) : String(item))).join(', ')}]`;
  return describeValue(addr);
}

/**
 * Checks a `sendto` address of an IP endpoint: `[host, port]` or
 * `[host, port, flowinfo, scopeId]` with a string host and a port 0-65535.
 * Returns the port.
 */
export function checkIpSendAddress(addr: unknown): number {
  if (Array.isArray(addr) && (addr.length === 2 || addr.length === 4) && typeof addr[0] === 'string') {
    const port: unknown = addr[1];
    if (typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  }
  throw new TypeError(`sendto(): addr must be [host, port] (or [host, port, flowinfo, scopeId] for IPv6) with a port 0-65535, got ${showAddress(addr)}`);
}
