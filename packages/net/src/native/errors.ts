/**
 * Errors of the socket layer, shaped as Node's system errors (`code`,
 * `errno` negative as Node reports it, `syscall`) so callers handle them as
 * they handle Node's own.
 */
import util from 'node:util';
import { GaiError } from '../dns.js';

const EAGAIN = -11;
const EINPROGRESS = -115;
const EALREADY = -114;

/** Node's system error for `-errno` from `syscall` (`connect ECONNREFUSED 127.0.0.1:1`). */
export function systemError(errno: number, syscall: string, address?: unknown): NodeJS.ErrnoException {
  const code = util.getSystemErrorName(errno);
  const detail = address === undefined ? '' : ` ${formatAddress(address)}`;
  const error: NodeJS.ErrnoException =
    errno === EAGAIN || errno === EINPROGRESS || errno === EALREADY
      ? new BlockingIOError(`${syscall} ${code}${detail}`)
      : new Error(`${syscall} ${code}${detail}`);
  error.errno = errno;
  error.code = code;
  error.syscall = syscall;
  if (typeof address === 'string') error.path = address;
  else if (Array.isArray(address)) {
    (error as NodeJS.ErrnoException & { address?: string; port?: number }).address = String(address[0]);
    (error as NodeJS.ErrnoException & { port?: number }).port = Number(address[1]);
  }
  return error;
}

/**
 * Python's `BlockingIOError`: a non-blocking call would block (`EAGAIN`), or a
 * non-blocking `connect()` is under way (`EINPROGRESS`).
 */
export class BlockingIOError extends Error implements NodeJS.ErrnoException {
  override name = 'BlockingIOError';
  errno?: number;
  code?: string;
  syscall?: string;
}

const EAI_CODES: Record<number, string> = { [-2]: 'ENOTFOUND', [-5]: 'ENOTFOUND', [-3]: 'EAI_AGAIN', [-4]: 'EAI_FAIL', [-6]: 'EAI_FAMILY', [-8]: 'EAI_SERVICE', [-9]: 'EAI_ADDRFAMILY' };

/** The error for a getaddrinfo failure inside a socket call (bind/connect/sendto with a host name). */
export function resolveError(eai: number, host: unknown, message: string): GaiError {
  return new GaiError('getaddrinfo', EAI_CODES[eai] ?? `EAI_${-eai}`, message, typeof host === 'string' ? host : undefined);
}

function formatAddress(address: unknown): string {
  if (typeof address === 'string') return JSON.stringify(address);
  if (Array.isArray(address)) return address[0] !== undefined && String(address[0]).includes(':') ? `[${address[0]}]:${address[1]}` : `${address[0]}:${address[1]}`;
  return String(address);
}
