/** The TLS errors (asyncio's ssl.SSLError family and the handshake timeout). */
import { TimeoutError } from '@aioloop/core';

/** A TLS failure (Python's `ssl.SSLError`); `code` is Node's / OpenSSL's code, `cause` the original error. */
export class SslError extends Error {
  override name = 'SslError';
  /** Node's error code (`ERR_SSL_...`, `ECONNRESET`, ...). */
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, { cause: options?.cause });
    this.code = options?.code;
  }
}

/**
 * The peer's certificate did not verify (Python's
 * `ssl.SSLCertVerificationError`). The message says why: an untrusted chain
 * (OpenSSL's reason, e.g. "unable to get local issuer certificate") or
 * "Hostname mismatch, certificate is not valid for 'name'".
 */
export class SslCertVerificationError extends SslError {
  override name = 'SslCertVerificationError';
  /** 'hostname' for a name mismatch, 'chain' for an untrusted or invalid certificate chain. */
  readonly reason: 'hostname' | 'chain';
  constructor(message: string, reason: 'hostname' | 'chain', options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * The TLS handshake took longer than `sslHandshakeTimeout`; the connection was
 * closed. A {@link TimeoutError} carrying asyncio's message and errno
 * (asyncio raises `ConnectionAbortedError` with this message).
 */
export class SslHandshakeTimeoutError extends TimeoutError {
  override name = 'SslHandshakeTimeoutError';
  /** ECONNABORTED, as asyncio's ConnectionAbortedError. */
  readonly code = 'ECONNABORTED';
  constructor(seconds: number) {
    super(`SSL handshake is taking longer than ${seconds} seconds: aborting the connection`);
  }
}

// OpenSSL's verification codes as Node reports them (X509_V_ERR_* names without the prefix).
const CHAIN_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
]);

/** Node's handshake error as the asyncio-style error. */
export function handshakeError(error: unknown, hostname: string | null): Error {
  if (!(error instanceof Error)) return new SslError(String(error));
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const detail = (error as Error & { reason?: string }).reason ?? error.message;
    return new SslCertVerificationError(
      `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for '${hostname ?? ''}' (${detail})`,
      'hostname',
      { cause: error, code },
    );
  }
  if (code !== undefined && CHAIN_CODES.has(code)) {
    return new SslCertVerificationError(`[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ${error.message} (${code})`, 'chain', { cause: error, code });
  }
  if (typeof code === 'string' && code.startsWith('ERR_SSL')) return new SslError(error.message, { cause: error, code });
  return error; // ECONNRESET, EPIPE...: OSErrors, as asyncio passes them through
}
