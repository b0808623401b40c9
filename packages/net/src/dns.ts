/**
 * Name resolution with the shapes of Python's `socket.getaddrinfo` /
 * `socket.getnameinfo` (and asyncio's `loop.getaddrinfo` / `loop.getnameinfo`),
 * built on Node's `dns.lookup` and `dns.lookupService`.
 */
import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describeValue } from '@aioloop/core';

// ------------------------------------------------------------------ constants
// The numbers are Linux's (what Python's `socket` module reports on Linux).
// They are this package's own values on every OS: pass them back to this
// package, never to a native API that expects the host OS's numbers.

/** Any address family (Python `socket.AF_UNSPEC`). */
export const AF_UNSPEC = 0;
/** Unix domain sockets (Python `socket.AF_UNIX`); getaddrinfo rejects it as glibc does. */
export const AF_UNIX = 1;
/** IPv4 (Python `socket.AF_INET`). */
export const AF_INET = 2;
/** IPv6 (Python `socket.AF_INET6`, Linux value 10). */
export const AF_INET6 = 10;

/** Stream sockets, TCP (Python `socket.SOCK_STREAM`). */
export const SOCK_STREAM = 1;
/** Datagram sockets, UDP (Python `socket.SOCK_DGRAM`). */
export const SOCK_DGRAM = 2;
/** Raw sockets (Python `socket.SOCK_RAW`); only reported by getaddrinfo, never opened by this package. */
export const SOCK_RAW = 3;

/** Default protocol for the socket type (0). */
export const IPPROTO_IP = 0;
/** TCP (Python `socket.IPPROTO_TCP`). */
export const IPPROTO_TCP = 6;
/** UDP (Python `socket.IPPROTO_UDP`). */
export const IPPROTO_UDP = 17;

/** getaddrinfo flag: addresses for binding (a null host gives the wildcard addresses). */
export const AI_PASSIVE = 0x1;
/** getaddrinfo flag: report the canonical name in the first entry. */
export const AI_CANONNAME = 0x2;
/** getaddrinfo flag: the host must be a numeric address; no name lookup. */
export const AI_NUMERICHOST = 0x4;
/** getaddrinfo flag: with AF_INET6, return IPv4-mapped addresses if there are no IPv6 ones. */
export const AI_V4MAPPED = 0x8;
/** getaddrinfo flag: with AI_V4MAPPED, return IPv6 and IPv4-mapped addresses. */
export const AI_ALL = 0x10;
/** getaddrinfo flag: only families configured on this host. */
export const AI_ADDRCONFIG = 0x20;
/** getaddrinfo flag: the port must be numeric; no service-name lookup. */
export const AI_NUMERICSERV = 0x400;

/** getnameinfo flag: return the numeric address, no reverse lookup. */
export const NI_NUMERICHOST = 0x1;
/** getnameinfo flag: return the numeric port, no service-name lookup. */
export const NI_NUMERICSERV = 0x2;
/** getnameinfo flag: return only the first label of a host name. */
export const NI_NOFQDN = 0x4;
/** getnameinfo flag: fail if the address has no name (instead of returning it numerically). */
export const NI_NAMEREQD = 0x8;
/** getnameinfo flag: look the service up as UDP rather than TCP. */
export const NI_DGRAM = 0x10;

const KNOWN_AI_FLAGS = AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG | AI_NUMERICSERV;
const KNOWN_NI_FLAGS = NI_NUMERICHOST | NI_NUMERICSERV | NI_NOFQDN | NI_NAMEREQD | NI_DGRAM;

// ---------------------------------------------------------------------- types

/** An IPv4 socket address: `[host, port]` (Python's 2-tuple). */
export type SockAddrV4 = [host: string, port: number];
/** An IPv6 socket address: `[host, port, flowinfo, scopeid]` (Python's 4-tuple). */
export type SockAddrV6 = [host: string, port: number, flowinfo: number, scopeid: number];
/** An IP socket address as Python reports it. */
export type SockAddr = SockAddrV4 | SockAddrV6;

/** One getaddrinfo result: `[family, type, proto, canonname, sockaddr]` (Python's 5-tuple). */
export type AddrInfo = [family: number, type: number, proto: number, canonname: string, sockaddr: SockAddr];

/** Hints for {@link getaddrinfo}, as Python's keyword arguments. */
export interface GetaddrinfoOptions {
  /** AF_UNSPEC (default), AF_INET or AF_INET6. */
  family?: number;
  /** 0 (default: every type, as glibc: STREAM, DGRAM and RAW entries), SOCK_STREAM, SOCK_DGRAM or SOCK_RAW. */
  type?: number;
  /** 0 (default), IPPROTO_TCP or IPPROTO_UDP. */
  proto?: number;
  /** A bitwise OR of the AI_* flags. */
  flags?: number;
}

/** A port: a number 0-65535, a numeric string, a service name from /etc/services (`'http'`), or null for 0. */
export type PortLike = number | string | null | undefined;

/**
 * The error getaddrinfo and getnameinfo reject with (Python's `socket.gaierror`).
 * Node's own resolver errors are passed through unchanged and have the same
 * fields; this class is only used for errors this package detects itself.
 * `code` is Node's (`ENOTFOUND` for "name or service not known", `EAI_AGAIN`,
 * ...) or glibc's EAI_* name for `EAI_SERVICE`, `EAI_SOCKTYPE`, `EAI_FAMILY`,
 * `EAI_ADDRFAMILY`, `EAI_BADFLAGS`. Use {@link isGaiError} to recognise both.
 */
export class GaiError extends Error {
  override name = 'GaiError';
  /** The error code (Node's code or glibc's EAI_* name). */
  readonly code: string;
  /** `'getaddrinfo'` or `'getnameinfo'`. */
  readonly syscall: string;
  /** The host that was being resolved, if any. */
  readonly hostname: string | undefined;
  constructor(syscall: string, code: string, detail: string, hostname?: string) {
    super(`${syscall} ${code} ${detail}`);
    this.code = code;
    this.syscall = syscall;
    this.hostname = hostname;
  }
}

/**
 * Whether `error` is a resolver failure (Python's `socket.gaierror`): a
 * {@link GaiError} or a Node resolver error (`syscall` `getaddrinfo`,
 * `getnameinfo`, `queryA`, ...).
 */
export function isGaiError(error: unknown): error is Error & { code: string; syscall: string } {
  if (error instanceof GaiError) return true;
  if (!(error instanceof Error)) return false;
  const { code, syscall } = error as Error & { code?: unknown; syscall?: unknown };
  return typeof code === 'string' && (syscall === 'getaddrinfo' || syscall === 'getnameinfo' || (typeof syscall === 'string' && syscall.startsWith('query')));
}

// -------------------------------------------------------------------- helpers

/**
 * @internal Python's `repr()` of a string or number, for messages that copy asyncio's
 * wording (`('127.0.0.1', 8080)`, `'/tmp/x.sock'`); a tuple for arrays.
 */
export function pythonRepr(value: unknown): string {
  if (Array.isArray(value)) return `(${value.map(pythonRepr).join(', ')}${value.length === 1 ? ',' : ''})`;
  if (typeof value !== 'string') return String(value);
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

interface ServiceEntry {
  port: number;
  proto: 'tcp' | 'udp';
}

interface ServicesDb {
  byName: Map<string, ServiceEntry[]>;
  byPort: Map<string, string>;
}

let servicesDb: ServicesDb | null | undefined;

/** @internal Where service names are read from (tests may point it elsewhere). */
export const servicesFile = { path: '/etc/services' };

/** Parses /etc/services once; null when the file is missing or unreadable. */
function loadServices(): ServicesDb | null {
  if (servicesDb !== undefined) return servicesDb;
  let text: string;
  try {
    text = readFileSync(servicesFile.path, 'utf8');
  } catch {
    servicesDb = null;
    return null;
  }
  const byName = new Map<string, ServiceEntry[]>();
  const byPort = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*/, '').trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    const [name, portProto, ...aliases] = fields;
    const match = /^(\d+)\/(tcp|udp)$/.exec(portProto ?? '');
    if (name === undefined || match === null) continue;
    const entry: ServiceEntry = { port: Number(match[1]), proto: match[2] as 'tcp' | 'udp' };
    for (const n of [name, ...aliases]) {
      const list = byName.get(n) ?? [];
      if (!list.some((e) => e.proto === entry.proto)) list.push(entry);
      byName.set(n, list);
    }
    const key = `${entry.port}/${entry.proto}`;
    if (!byPort.has(key)) byPort.set(key, name);
  }
  servicesDb = { byName, byPort };
  return servicesDb;
}

/** @internal Forgets the parsed services file (tests). */
export function _resetServicesCache(): void {
  servicesDb = undefined;
}

function checkIntOption(value: unknown, name: string, fn: string, accepted: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`${fn}(): ${name} must be ${accepted}, got ${describeValue(value)}`);
  }
  return value;
}

/** Where a port argument points: a number, or a service name to look up. */
type ParsedPort = { kind: 'number'; port: number } | { kind: 'service'; name: string };

function parsePort(port: unknown, fn: string): ParsedPort {
  if (port === null || port === undefined) return { kind: 'number', port: 0 };
  if (typeof port === 'number') {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`${fn}(): port must be an integer 0-65535 or a service name, got ${describeValue(port)}`);
    }
    return { kind: 'number', port };
  }
  if (typeof port === 'string') {
    if (/^\d+$/.test(port)) {
      const n = Number(port);
      if (n > 65535) throw new RangeError(`${fn}(): port must be an integer 0-65535 or a service name, got ${describeValue(port)}`);
      return { kind: 'number', port: n };
    }
    if (port === '') throw new TypeError(`${fn}(): port must be an integer 0-65535, a service name or null, got ""`);
    return { kind: 'service', name: port };
  }
  throw new TypeError(`${fn}(): port must be an integer 0-65535, a service name string (like 'http') or null, got ${describeValue(port)}`);
}

/** The interface index of a scope id (`'lo'`, `'eth0'` or a number), 0 if unknown. */
function scopeIndex(scope: string): number {
  if (/^\d+$/.test(scope)) return Number(scope);
  if (!/^[\w.:-]+$/.test(scope)) return 0;
  try {
    return Number(readFileSync(`/sys/class/net/${scope}/ifindex`, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

function makeSockaddr(address: string, family: number, port: number): SockAddr {
  if (family === AF_INET6) {
    const pct = address.indexOf('%');
    if (pct >= 0) return [address.slice(0, pct), port, 0, scopeIndex(address.slice(pct + 1))];
    return [address, port, 0, 0];
  }
  return [address, port];
}

/** The (type, proto) pairs glibc reports, in its order. */
const SOCKTYPES: readonly (readonly [type: number, proto: number, name: 'tcp' | 'udp' | 'raw'])[] = [
  [SOCK_STREAM, IPPROTO_TCP, 'tcp'],
  [SOCK_DGRAM, IPPROTO_UDP, 'udp'],
  [SOCK_RAW, IPPROTO_IP, 'raw'],
];

function lookupAll(host: string, family: number, hints: number): Promise<dns.LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dns.lookup(host, { all: true, family: family === AF_INET ? 4 : family === AF_INET6 ? 6 : 0, hints, verbatim: true }, (error, addresses) => {
      if (error) reject(error);
      else resolve(addresses);
    });
  });
}

// ---------------------------------------------------------------- getaddrinfo

/**
 * Resolves `host` and `port` into socket addresses (Python's
 * `socket.getaddrinfo`, asyncio's `loop.getaddrinfo`). Returns
 * `[family, type, proto, canonname, sockaddr]` entries in the resolver's order;
 * sockaddr is `[host, port]` for IPv4 and `[host, port, flowinfo, scopeid]`
 * for IPv6.
 *
 * - Numeric hosts are never sent to DNS. `host` null: loopback addresses, or
 *   the wildcard addresses with `AI_PASSIVE`.
 * - `port`: a number, a numeric string, a service name (`'http'`, read from
 *   /etc/services; a clear `EAI_SERVICE` error when that file is missing), or
 *   null for 0.
 * - `type` 0 reports one entry per socket type for each address, as glibc
 *   (and so CPython) does: SOCK_STREAM/IPPROTO_TCP, SOCK_DGRAM/IPPROTO_UDP and
 *   SOCK_RAW/0 for a numeric port; only the types the service is defined
 *   for with a service name.
 *
 * Rejects with Node's resolver error (`code` `ENOTFOUND`, `EAI_AGAIN`, ...) or
 * a {@link GaiError}: both are Python's `socket.gaierror`. Bad argument types
 * reject with a TypeError/RangeError naming the argument.
 */
export async function getaddrinfo(host: string | null | undefined, port: PortLike, options: GetaddrinfoOptions = {}): Promise<AddrInfo[]> {
  const fn = 'getaddrinfo';
  if (host !== null && host !== undefined && typeof host !== 'string') {
    throw new TypeError(`${fn}(): host must be a string (name or numeric address) or null, got ${describeValue(host)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${fn}(): options must be an object { family, type, proto, flags }, got ${describeValue(options)}`);
  }
  const family = checkIntOption(options.family, 'family', fn, 'AF_UNSPEC (0), AF_INET (2) or AF_INET6 (10)');
  const type = checkIntOption(options.type, 'type', fn, '0, SOCK_STREAM (1), SOCK_DGRAM (2) or SOCK_RAW (3)');
  const proto = checkIntOption(options.proto, 'proto', fn, '0, IPPROTO_TCP (6) or IPPROTO_UDP (17)');
  const flags = checkIntOption(options.flags, 'flags', fn, 'a bitwise OR of AI_* flags');
  const parsedPort = parsePort(port, fn);
  const hostName = host ?? undefined;

  if ((flags & ~KNOWN_AI_FLAGS) !== 0) throw new GaiError(fn, 'EAI_BADFLAGS', `Bad value for ai_flags (${flags})`, hostName);
  if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6) {
    throw new GaiError(fn, 'EAI_FAMILY', `ai_family not supported (${family})`, hostName);
  }
  if (type !== 0 && type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_RAW) {
    throw new GaiError(fn, 'EAI_SOCKTYPE', `ai_socktype not supported (${type})`, hostName);
  }

  // Which socket types to report, and their port.
  const rows: { type: number; proto: number; port: number }[] = [];
  if (parsedPort.kind === 'service' && (flags & AI_NUMERICSERV) !== 0) {
    throw new GaiError(fn, 'ENOTFOUND', `Name or service not known (AI_NUMERICSERV with service name ${describeValue(parsedPort.name)})`, hostName);
  }
  let services: ServiceEntry[] | undefined;
  if (parsedPort.kind === 'service') {
    const db = loadServices();
    if (db === null) {
      throw new GaiError(fn, 'EAI_SERVICE', `cannot resolve service name ${describeValue(parsedPort.name)}: ${servicesFile.path} is missing; pass a port number`, hostName);
    }
    services = db.byName.get(parsedPort.name) ?? [];
  }
  for (const [t, p, name] of SOCKTYPES) {
    if (type !== 0 && type !== t) continue;
    let entryProto = p;
    if (proto !== 0) {
      if (t === SOCK_RAW) entryProto = proto;
      else if (proto !== p) continue;
    }
    if (t === SOCK_RAW) {
      // glibc: a raw socket has no port; with type 0 it is listed for numeric ports anyway.
      if (parsedPort.kind === 'service') continue;
      if (type === SOCK_RAW && parsedPort.port !== 0 && port !== null && port !== undefined) continue;
      if (type === 0 && proto !== 0) continue;
      rows.push({ type: t, proto: entryProto, port: parsedPort.port });
      continue;
    }
    if (services !== undefined) {
      const service = services.find((e) => e.proto === name);
      if (service === undefined) continue;
      rows.push({ type: t, proto: entryProto, port: service.port });
    } else {
      rows.push({ type: t, proto: entryProto, port: (parsedPort as { port: number }).port });
    }
  }
  if (rows.length === 0) {
    if (type !== 0 && proto !== 0 && type !== SOCK_RAW && parsedPort.kind === 'number') {
      throw new GaiError(fn, 'EAI_SOCKTYPE', `ai_socktype not supported (type ${type} with proto ${proto})`, hostName);
    }
    const what = parsedPort.kind === 'service' ? `service ${describeValue(parsedPort.name)}` : `port ${parsedPort.port}`;
    throw new GaiError(fn, 'EAI_SERVICE', `Servname not supported for ai_socktype (${what}, type ${type}, proto ${proto})`, hostName);
  }

  // The addresses.
  let addresses: { address: string; family: number }[];
  if (host === null || host === undefined) {
    const passive = (flags & AI_PASSIVE) !== 0;
    const v4 = { address: passive ? '0.0.0.0' : '127.0.0.1', family: AF_INET };
    const v6 = { address: passive ? '::' : '::1', family: AF_INET6 };
    // glibc's order: passive lists IPv4 first, loopback lists IPv6 first.
    addresses = family === AF_INET ? [v4] : family === AF_INET6 ? [v6] : passive ? [v4, v6] : [v6, v4];
  } else {
    const ipVersion = net.isIP(host);
    if (ipVersion !== 0) {
      const addrFamily = ipVersion === 4 ? AF_INET : AF_INET6;
      if (family !== AF_UNSPEC && family !== addrFamily) {
        throw new GaiError(fn, 'EAI_ADDRFAMILY', `Address family for hostname not supported (${host} with family ${family})`, host);
      }
      addresses = [{ address: host, family: addrFamily }];
    } else {
      if ((flags & AI_NUMERICHOST) !== 0 || host === '') {
        throw new GaiError(fn, 'ENOTFOUND', `Name or service not known (${host === '' ? 'empty host' : `${describeValue(host)} is not a numeric address and AI_NUMERICHOST is set`})`, host);
      }
      let hints = 0;
      if (flags & AI_ADDRCONFIG) hints |= dns.ADDRCONFIG;
      if (flags & AI_V4MAPPED) hints |= dns.V4MAPPED;
      if (flags & AI_ALL) hints |= dns.ALL;
      const found = await lookupAll(host, family, hints);
      addresses = found.map((a) => ({ address: a.address, family: a.family === 6 ? AF_INET6 : AF_INET }));
    }
  }

  const canonname = (flags & AI_CANONNAME) !== 0 ? (host ?? addresses[0]?.address ?? '') : '';
  const result: AddrInfo[] = [];
  for (const a of addresses) {
    for (const row of rows) {
      result.push([a.family, row.type, row.proto, result.length === 0 ? canonname : '', makeSockaddr(a.address, a.family, row.port)]);
    }
  }
  return result;
}

// ---------------------------------------------------------------- getnameinfo

function lookupService(address: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    dns.lookupService(address, port, (error, hostname) => {
      if (error) reject(error);
      else resolve(hostname);
    });
  });
}

/**
 * Turns a socket address into `[host, service]` (Python's
 * `socket.getnameinfo`, asyncio's `loop.getnameinfo`). `sockaddr` is
 * `[host, port]` or, for IPv6, `[host, port, flowinfo?, scopeid?]`; the host
 * must be a numeric address.
 *
 * The host name comes from `dns.lookupService` (a reverse lookup); an address
 * without a name is returned numerically unless `NI_NAMEREQD` is set. The
 * service name is read from /etc/services (TCP, or UDP with `NI_DGRAM`) and is
 * the numeric port when unknown. `NI_NUMERICHOST` / `NI_NUMERICSERV` skip the
 * lookups entirely.
 */
export async function getnameinfo(sockaddr: readonly unknown[], flags: number = 0): Promise<[host: string, service: string]> {
  const fn = 'getnameinfo';
  if (!Array.isArray(sockaddr) || sockaddr.length < 2 || sockaddr.length > 4) {
    throw new TypeError(`${fn}(): sockaddr must be [host, port] or [host, port, flowinfo, scopeid], got ${describeValue(sockaddr)}`);
  }
  const [host, port, flowinfo, scopeid] = sockaddr as unknown[];
  if (typeof host !== 'string') throw new TypeError(`${fn}(): sockaddr[0] (host) must be a string, got ${describeValue(host)}`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${fn}(): sockaddr[1] (port) must be an integer 0-65535, got ${describeValue(port)}`);
  }
  for (const [value, name] of [[flowinfo, 'flowinfo'], [scopeid, 'scopeid']] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
      throw new TypeError(`${fn}(): sockaddr ${name} must be a non-negative integer, got ${describeValue(value)}`);
    }
  }
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0) {
    throw new TypeError(`${fn}(): flags must be a bitwise OR of NI_* flags, got ${describeValue(flags)}`);
  }
  if ((flags & ~KNOWN_NI_FLAGS) !== 0) throw new GaiError(fn, 'EAI_BADFLAGS', `Bad value for ai_flags (${flags})`, host);
  const ipVersion = net.isIP(host);
  if (ipVersion === 0) throw new GaiError(fn, 'ENOTFOUND', `Name or service not known (${describeValue(host)} is not a numeric address)`, host);
  if (ipVersion === 4 && sockaddr.length !== 2) {
    throw new TypeError(`${fn}(): an IPv4 sockaddr must be [host, port], got ${sockaddr.length} items`);
  }

  let name: string;
  if ((flags & NI_NUMERICHOST) !== 0) {
    name = host;
  } else {
    try {
      name = await lookupService(host, port);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if ((flags & NI_NAMEREQD) !== 0 || (code !== 'ENOTFOUND' && code !== 'EAI_NONAME')) throw error;
      name = host;
    }
    if ((flags & NI_NOFQDN) !== 0 && net.isIP(name) === 0) {
      const dot = name.indexOf('.');
      if (dot > 0) name = name.slice(0, dot);
    }
  }

  let service = String(port);
  if ((flags & NI_NUMERICSERV) === 0) {
    const db = loadServices();
    const known = db?.byPort.get(`${port}/${(flags & NI_DGRAM) !== 0 ? 'udp' : 'tcp'}`);
    if (known !== undefined) service = known;
  }
  return [name, service];
}
