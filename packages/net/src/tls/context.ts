/**
 * The `ssl` argument of the connection and server methods, and the TLS-only
 * keywords that go with it (asyncio's `ssl=`, `server_hostname=`,
 * `ssl_handshake_timeout=`, `ssl_shutdown_timeout=`).
 */
import { describeValue } from '@aioloop/core';
import type { TlsConnectionSettings } from './connection.js';
import net from 'node:net';
import tls from 'node:tls';

/** asyncio's SSL_HANDSHAKE_TIMEOUT: seconds a handshake may take before the connection is aborted. */
export const SSL_HANDSHAKE_TIMEOUT = 60;
/** asyncio's SSL_SHUTDOWN_TIMEOUT: seconds close() waits for the peer's close_notify. */
export const SSL_SHUTDOWN_TIMEOUT = 30;

/**
 * Secure-context options (Node's `tls.createSecureContext` options: `ca`,
 * `cert`, `key`, `minVersion`, ...) plus the verification switches that Node
 * keeps outside a secure context.
 */
export interface SslContextOptions extends tls.SecureContextOptions {
  /**
   * Client: verify the server's certificate chain (default true). Only an
   * explicit `false` turns verification off (asyncio's `CERT_NONE`).
   * Server with `requestCert`: reject clients without a valid certificate (default true).
   */
  rejectUnauthorized?: boolean;
  /** Server: ask the client for a certificate (asyncio's `verify_mode = CERT_OPTIONAL/REQUIRED`). Default false. */
  requestCert?: boolean;
  /** ALPN protocol names to offer (client) or accept (server). */
  ALPNProtocols?: string[];
}

/**
 * What `ssl` accepts: `true` (a default context verifying against Node's
 * root certificates; clients only), a `tls.SecureContext`, or
 * {@link SslContextOptions}. `null`/`false`/omitted: plain TCP.
 */
export type SslOption = true | tls.SecureContext | SslContextOptions;

/** A resolved `ssl` argument. */
export interface SslConfig {
  /** The secure context used for every connection of this call or server. */
  readonly context: tls.SecureContext;
  /** Whether the peer's certificate chain must verify (client default true). */
  readonly rejectUnauthorized: boolean;
  /** Server: ask for a client certificate. */
  readonly requestCert: boolean;
  /** ALPN protocols, if any. */
  readonly ALPNProtocols: string[] | undefined;
}

let defaultClientContext: tls.SecureContext | null = null;

function isSecureContext(value: unknown): value is tls.SecureContext {
  // tls.SecureContext is not exported as a class; its instances carry the native `context`.
  return value !== null && typeof value === 'object' && 'context' in value && Object.getPrototypeOf(value)?.constructor?.name === 'SecureContext';
}

/** Turns the `ssl` argument into an {@link SslConfig}; throws a TypeError naming `method` for anything else. */
export function sslConfig(ssl: unknown, method: string, server: boolean): SslConfig {
  if (ssl === true) {
    if (server) throw new TypeError(`${method}(): ssl: true has no certificate to serve; pass a tls.SecureContext or options with cert and key`);
    defaultClientContext ??= tls.createSecureContext();
    return { context: defaultClientContext, rejectUnauthorized: true, requestCert: false, ALPNProtocols: undefined };
  }
  if (isSecureContext(ssl)) return { context: ssl, rejectUnauthorized: true, requestCert: false, ALPNProtocols: undefined };
  if (ssl !== null && typeof ssl === 'object' && !Array.isArray(ssl)) {
    const { rejectUnauthorized, requestCert, ALPNProtocols, ...contextOptions } = ssl as SslContextOptions;
    if (rejectUnauthorized !== undefined && typeof rejectUnauthorized !== 'boolean') {
      throw new TypeError(`${method}(): ssl.rejectUnauthorized must be a boolean, got ${describeValue(rejectUnauthorized)}`);
    }
    if (requestCert !== undefined && typeof requestCert !== 'boolean') {
      throw new TypeError(`${method}(): ssl.requestCert must be a boolean, got ${describeValue(requestCert)}`);
    }
    if (ALPNProtocols !== undefined && (!Array.isArray(ALPNProtocols) || !ALPNProtocols.every((p) => typeof p === 'string'))) {
      throw new TypeError(`${method}(): ssl.ALPNProtocols must be an array of strings, got ${describeValue(ALPNProtocols)}`);
    }
    const o = contextOptions as tls.SecureContextOptions;
    if (server && o.cert === undefined && o.pfx === undefined) {
      throw new TypeError(`${method}(): ssl options for a server need a certificate: give cert and key (or pfx), or a tls.SecureContext`);
    }
    let context: tls.SecureContext;
    try {
      context = tls.createSecureContext(contextOptions);
    } catch (error) {
      throw new TypeError(`${method}(): ssl options are not a valid secure context: ${(error as Error).message}`, { cause: error });
    }
    return { context, rejectUnauthorized: rejectUnauthorized ?? true, requestCert: requestCert ?? false, ALPNProtocols };
  }
  throw new TypeError(`${method}(): ssl must be true, a tls.SecureContext or secure-context options ({ ca, cert, key, ... }), got ${describeValue(ssl)}`);
}

/** The TLS keywords of a call, checked. */
export interface TlsKeywords {
  /** null: plain connection. */
  ssl: SslConfig | null;
  /** Client: the name to verify (and send as SNI); '' turns host-name checking off; null: not given. */
  serverHostname: string | null;
  handshakeTimeout: number;
  shutdownTimeout: number;
}

function checkTimeout(value: unknown, name: string, method: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${method}(): ${name} must be a positive number of seconds, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Checks `ssl`, `serverHostname` (clients), `sslHandshakeTimeout` and
 * `sslShutdownTimeout` as asyncio does: the last three without `ssl` are an
 * error ("... is only meaningful with ssl"), as asyncio's ValueError.
 */
export function checkTlsKeywords(options: Record<string, unknown>, method: string, side: 'client' | 'server' | 'accepted'): TlsKeywords {
  const raw = options.ssl;
  const wanted = raw !== undefined && raw !== null && raw !== false;
  if (!wanted) {
    if (side === 'client' && options.serverHostname !== undefined && options.serverHostname !== null) {
      throw new TypeError(`${method}(): serverHostname is only meaningful with ssl`);
    }
    if (options.sslHandshakeTimeout !== undefined && options.sslHandshakeTimeout !== null) {
      throw new TypeError(`${method}(): sslHandshakeTimeout is only meaningful with ssl`);
    }
    if (options.sslShutdownTimeout !== undefined && options.sslShutdownTimeout !== null) {
      throw new TypeError(`${method}(): sslShutdownTimeout is only meaningful with ssl`);
    }
    return { ssl: null, serverHostname: null, handshakeTimeout: SSL_HANDSHAKE_TIMEOUT, shutdownTimeout: SSL_SHUTDOWN_TIMEOUT };
  }
  const serverHostname = options.serverHostname;
  if (serverHostname !== undefined && serverHostname !== null && typeof serverHostname !== 'string') {
    throw new TypeError(`${method}(): serverHostname must be a string ('' turns host-name checking off) or null, got ${describeValue(serverHostname)}`);
  }
  return {
    ssl: sslConfig(raw, method, side !== 'client'),
    serverHostname: (serverHostname as string | null | undefined) ?? null,
    handshakeTimeout: checkTimeout(options.sslHandshakeTimeout, 'sslHandshakeTimeout', method, SSL_HANDSHAKE_TIMEOUT),
    shutdownTimeout: checkTimeout(options.sslShutdownTimeout, 'sslShutdownTimeout', method, SSL_SHUTDOWN_TIMEOUT),
  };
}

/** Whether `name` is an IP address (never sent as SNI). */
export function isIpAddress(name: string): boolean {
  return net.isIP(name) !== 0;
}

/** The TLS keywords of the client methods (asyncio's `ssl`, `server_hostname`, `ssl_handshake_timeout`, `ssl_shutdown_timeout`). */
export interface ClientTlsOptions {
  /**
   * TLS: `true` (Node's root certificates, verifying), a `tls.SecureContext`,
   * or secure-context options (`{ ca, cert, key, rejectUnauthorized, ... }`).
   * The certificate chain and host name are verified unless
   * `rejectUnauthorized: false` is given explicitly.
   */
  ssl?: SslOption | null | false;
  /** TLS only: the name the server's certificate must carry (default: `host`); '' turns host-name checking off. */
  serverHostname?: string | null;
  /** TLS only: seconds the handshake may take before the connection is aborted (default 60). */
  sslHandshakeTimeout?: number | null;
  /** TLS only: seconds close() waits for the peer's close_notify (default 30). */
  sslShutdownTimeout?: number | null;
}

/** `ssl` given (a TLS transport results). */
export type WithSsl = { ssl: SslOption };
/** No `ssl` (a plain stream transport results). */
export type WithoutSsl = { ssl?: null | false };

/** The client TLS settings of a call, or null for plain; `host` is the default server name, as asyncio. */
export function clientTls(options: unknown, method: string, host: string | null): TlsConnectionSettings | null {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${method}(): options must be an object, got ${describeValue(options)}`);
  }
  const keywords = checkTlsKeywords(options as Record<string, unknown>, method, 'client');
  if (keywords.ssl === null) return null;
  let serverHostname = keywords.serverHostname;
  if (serverHostname === null) {
    if (host === null) throw new TypeError(`${method}(): You must set serverHostname when using ssl without a host`);
    serverHostname = host;
  }
  return { ...keywords, ssl: keywords.ssl, serverHostname };
}

