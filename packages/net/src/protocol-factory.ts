import { describeValue } from '@aioloop/core';

/** A function returning a fresh protocol (asyncio's protocol_factory). */
export type ProtocolFactory<P> = () => P;

/** Throws a TypeError naming `method` unless `factory` is a function (asyncio's protocol_factory). */
export function checkFactory(factory: unknown, method: string): void {
  if (typeof factory !== 'function') {
    throw new TypeError(`${method}(): protocolFactory must be a function returning a protocol (e.g. () => new MyProtocol()), got ${describeValue(factory)}`);
  }
}
