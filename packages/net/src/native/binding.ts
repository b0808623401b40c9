/**
 * Loads @aioloop/native-sockets, the optional native part of @aioloop/net,
 * on first use. Without it everything else in @aioloop/net works; the
 * features that need it throw {@link NativeSocketsUnavailableError}.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { NativeBinding } from '@aioloop/native-sockets';

/** The npm package that holds the native socket layer. */
export const NATIVE_PACKAGE = '@aioloop/native-sockets';

/**
 * A feature needs @aioloop/native-sockets (real sockets, fd watchers, sock*
 * methods, reusePort on Node < 22.12, exact-length abstract Unix names, write
 * pipe reader-close detection) and it could not be loaded.
 */
export class NativeSocketsUnavailableError extends Error {
  override name = 'NativeSocketsUnavailableError';
  /** `'ERR_AIOLOOP_NATIVE_SOCKETS'`. */
  readonly code = 'ERR_AIOLOOP_NATIVE_SOCKETS';
  constructor(
    /** What was called. */
    readonly feature: string,
    /** Why loading failed. */
    override readonly cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(
      `${feature} needs the native package ${NATIVE_PACKAGE}, which could not be loaded (${reason}). ` +
        `Install it next to @aioloop/net (npm install ${NATIVE_PACKAGE}); it ships a prebuilt binary for linux-x64, ` +
        `other Linux platforms build it from source on install (a C++ compiler, make and Python are needed; then run npm rebuild ${NATIVE_PACKAGE}).`,
    );
  }
}

declare const __filename: string | undefined;

let binding: NativeBinding | null = null;
let failure: unknown = null;

function load(): void {
  try {
    // A real require (a bundler's stub for a bare `require` throws). The build is CommonJS and
    // vitest defines __filename for sources; an ES-module run of the sources resolves from cwd.
    const req = createRequire(typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js'));
    binding = (req(NATIVE_PACKAGE) as { binding: NativeBinding }).binding;
  } catch (error) {
    failure = error;
  }
}

/** The native binding, or throws {@link NativeSocketsUnavailableError} naming `feature`. */
export function nativeBinding(feature: string): NativeBinding {
  if (binding !== null) return binding;
  if (failure === null) load();
  if (binding !== null) return binding;
  throw new NativeSocketsUnavailableError(feature, failure);
}

/** Whether @aioloop/native-sockets loads here (loads it on first call). */
export function nativeSocketsAvailable(): boolean {
  if (binding === null && failure === null) load();
  return binding !== null;
}
