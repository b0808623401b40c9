/** What the test transports share about bytes: handing received ones to a protocol, and writelines. */
import { RuntimeError, isBufferedProtocol, toBytes, type BufferedProtocolLike, type BytesLike, type ProtocolLike } from '@aioloop/core';
import { describeValue } from './describe.js';

/**
 * Hands received bytes to `protocol` as a transport does: `dataReceived(data)`,
 * or for a BufferedProtocol `getBuffer(remaining)` then `bufferUpdated(n)`, in
 * as many rounds as its buffers need. A `getBuffer()` that returns an empty
 * buffer or not a Uint8Array throws a RuntimeError, as core's transports do.
 */
export function deliverBytes(protocol: ProtocolLike | BufferedProtocolLike, data: Buffer): void {
  if (!isBufferedProtocol(protocol)) {
    protocol.dataReceived(data);
    return;
  }
  let offset = 0;
  while (offset < data.byteLength) {
    const buffer = protocol.getBuffer(data.byteLength - offset);
    if (!(buffer instanceof Uint8Array) || buffer.byteLength === 0) {
      throw new RuntimeError(`getBuffer() must return a non-empty Uint8Array, got ${describeValue(buffer)}`);
    }
    const n = Math.min(buffer.byteLength, data.byteLength - offset);
    buffer.set(data.subarray(offset, offset + n));
    offset += n;
    protocol.bufferUpdated(n);
  }
}

/** `writelines(list)` of a test transport: every item is validated first (none is written if one is bad), then each is written in order. */
export function writeEach(transport: { write(data: Uint8Array): void }, list: Iterable<BytesLike>): void {
  if (list === null || typeof list !== 'object' || typeof (list as Iterable<BytesLike>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`writelines(): list must be an iterable of bytes, got ${describeValue(list)}`);
  }
  const items = [...list].map((item) => toBytes(item, 'writelines'));
  for (const item of items) transport.write(item);
}
