/**
 * asyncio's exception classes. Node's own system errors keep their `code`
 * (`ECONNREFUSED`, ...) and are never wrapped in these.
 */

/** The operation was cancelled (asyncio.CancelledError). */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(message?: string) {
    super(message ?? '');
  }
}

/** An operation was attempted in a state that does not allow it (asyncio.InvalidStateError). */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}

/** A deadline passed (asyncio.TimeoutError, which is the builtin TimeoutError in Python 3.11+). */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(message = 'The operation timed out') {
    super(message);
  }
}

/** Python's RuntimeError: the loop is in the wrong state for the call ("Event loop is closed", ...). */
export class RuntimeError extends Error {
  override name = 'RuntimeError';
}

/** `sendfile` is not available for the given socket or file (asyncio.SendfileNotAvailableError). */
export class SendfileNotAvailableError extends RuntimeError {
  override name = 'SendfileNotAvailableError';
}

/** The stream ended before the requested number of bytes arrived (asyncio.IncompleteReadError). */
export class IncompleteReadError extends Error {
  override name = 'IncompleteReadError';
  constructor(
    /** The bytes read before the end of the stream. */
    readonly partial: Uint8Array,
    /** How many bytes were expected in total, or null if unknown. */
    readonly expected: number | null,
  ) {
    super(`${partial.length} bytes read on a total of ${expected === null ? 'undefined' : expected} expected bytes`);
  }
}

/** A buffer limit was reached while looking for a separator (asyncio.LimitOverrunError). */
export class LimitOverrunError extends Error {
  override name = 'LimitOverrunError';
  constructor(
    message: string,
    /** How many bytes were consumed before the limit was hit. */
    readonly consumed: number,
  ) {
    super(message);
  }
}

/**
 * A loop method was called whose implementation lives in a package that is not
 * installed or not imported (for example `loop.createConnection` without `@aioloop/net`).
 */
export class MissingPackageError extends Error {
  override name = 'MissingPackageError';
  constructor(
    /** The loop method that was called. */
    readonly method: string,
    /** The npm package that provides it. */
    readonly packageName: string,
  ) {
    super(
      `loop.${method}() is provided by ${packageName}: install it (npm install ${packageName}) ` +
        `and import it once (import '${packageName}') before calling loop.${method}()`,
    );
  }
}

/** Message of the error thrown by every operation on a closed loop, as asyncio words it. */
export const LOOP_CLOSED_MESSAGE = 'Event loop is closed';
