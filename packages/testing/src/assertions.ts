import type { BytesLike } from '@aioloop/core';
import { toBytes } from '@aioloop/core';
import { previewBytes, type ProtocolEventType } from './recording.js';
import type { MockTransport, MockTransportMethod } from './mock-transport.js';
import { describeValue } from './describe.js';

/** Throws unless `value` has the method the assertion reads (it was given the wrong object). */
function checkSource(value: unknown, method: string, where: string, name: string, what: string): void {
  if (value === null || typeof value !== 'object' || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new TypeError(`${where}(): ${name} must be ${what} (with ${method}()), got ${describeValue(value)}`);
  }
}

/** An assertion of this package failed; the message shows expected and actual side by side. */
export class ProtocolAssertionError extends Error {
  override name = 'AssertionError';
}

interface EventSource {
  types(): ProtocolEventType[];
  describe(): string;
  count(type: ProtocolEventType): number;
  readonly lostError: Error | null | undefined;
}

interface ByteSource {
  received(): Buffer;
  describe(): string;
}

/** Collapses runs of the same callback: `dataReceived` x3 reads as one, since chunking is not part of the contract. */
function collapse(types: readonly string[]): string[] {
  const out: string[] = [];
  for (const type of types) if (out[out.length - 1] !== type || type !== 'dataReceived') out.push(type);
  return out;
}

/**
 * Asserts the protocol's callbacks came in exactly this order. Consecutive
 * `dataReceived` calls count as one (how bytes are chunked is not part of the
 * transport contract); pass `{ exact: true }` to compare every call.
 */
export function assertEvents(protocol: EventSource, expected: readonly ProtocolEventType[], options: { exact?: boolean } = {}): void {
  checkSource(protocol, 'types', 'assertEvents', 'protocol', 'a RecordingProtocol');
  if (!Array.isArray(expected)) throw new TypeError(`assertEvents(): expected must be an array of callback names, got ${describeValue(expected)}`);
  const actual = options.exact ? protocol.types() : collapse(protocol.types());
  const wanted = options.exact ? [...expected] : collapse(expected);
  if (actual.length === wanted.length && actual.every((type, i) => type === wanted[i])) return;
  throw new ProtocolAssertionError(
    `protocol callbacks differ\n  expected: ${wanted.join(' -> ') || '(none)'}\n  actual:   ${actual.join(' -> ') || '(none)'}\n${protocol.describe()}`,
  );
}

/** Asserts the protocol received exactly these bytes (a string is compared as UTF-8). */
export function assertReceived(protocol: ByteSource, expected: BytesLike | string): void {
  checkSource(protocol, 'received', 'assertReceived', 'protocol', 'a RecordingProtocol');
  const want = typeof expected === 'string' ? Buffer.from(expected) : Buffer.from(toBytes(expected, 'assertReceived'));
  const got = protocol.received();
  if (got.equals(want)) return;
  let at = 0;
  while (at < got.length && at < want.length && got[at] === want[at]) at++;
  throw new ProtocolAssertionError(
    `received bytes differ at offset ${at}\n  expected ${want.length} bytes: ${previewBytes(want)}\n  received ${got.length} bytes: ${previewBytes(got)}\n${protocol.describe()}`,
  );
}

/**
 * Asserts `connectionLost` was called exactly once, with the expected error:
 * `null` for a clean close, a RegExp matched against `"Name: message"` or an
 * error class; omitted accepts any.
 */
export function assertConnectionLostOnce(
  protocol: EventSource,
  expected?: null | RegExp | (abstract new (...args: never[]) => Error),
): void {
  checkSource(protocol, 'count', 'assertConnectionLostOnce', 'protocol', 'a RecordingProtocol');
  const times = protocol.count('connectionLost');
  if (times !== 1) {
    throw new ProtocolAssertionError(`connectionLost() was called ${times} times, expected exactly once\n${protocol.describe()}`);
  }
  if (expected === undefined) return;
  const exc = protocol.lostError ?? null;
  if (expected === null) {
    if (exc === null) return;
    throw new ProtocolAssertionError(`connectionLost() got ${exc.name}: ${exc.message}, expected a clean close (null)\n${protocol.describe()}`);
  }
  if (exc === null) {
    throw new ProtocolAssertionError(`connectionLost() got null (clean close), expected an error matching ${String(expected)}\n${protocol.describe()}`);
  }
  const ok = expected instanceof RegExp ? expected.test(`${exc.name}: ${exc.message}`) : exc instanceof expected;
  if (!ok) {
    throw new ProtocolAssertionError(`connectionLost() got ${exc.name}: ${exc.message}, expected ${expected instanceof RegExp ? String(expected) : expected.name}\n${protocol.describe()}`);
  }
}

/** Asserts the mock transport's calls were exactly these methods, in order. */
export function assertCalls(transport: MockTransport, expected: readonly MockTransportMethod[]): void {
  checkSource(transport, 'methods', 'assertCalls', 'transport', 'a MockTransport');
  if (!Array.isArray(expected)) throw new TypeError(`assertCalls(): expected must be an array of method names, got ${describeValue(expected)}`);
  const actual = transport.methods();
  if (actual.length === expected.length && actual.every((m, i) => m === expected[i])) return;
  throw new ProtocolAssertionError(`transport calls differ\n  expected: ${expected.join(', ') || '(none)'}\n  actual:   ${actual.join(', ') || '(none)'}`);
}

/** Asserts the mock transport was written exactly these bytes in total (a string compares as UTF-8). */
export function assertWritten(transport: MockTransport, expected: BytesLike | string): void {
  checkSource(transport, 'written', 'assertWritten', 'transport', 'a MockTransport');
  const want = typeof expected === 'string' ? Buffer.from(expected) : Buffer.from(toBytes(expected, 'assertWritten'));
  const got = transport.written();
  if (got.equals(want)) return;
  throw new ProtocolAssertionError(
    `written bytes differ\n  expected ${want.length} bytes: ${previewBytes(want)}\n  written  ${got.length} bytes: ${previewBytes(got)}\n  in ${transport.writes.length} write(s)`,
  );
}
