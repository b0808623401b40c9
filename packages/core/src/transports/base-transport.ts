import { checkProtocol, type AnyProtocolLike } from './protocols.js';
import type { BaseTransport, TransportExtraInfo } from './transports.js';

/**
 * @internal Bit 0 of every transport's state integer: close()/abort() or a
 * fatal error began. {@link FlowControlTransport} owns bit 1; subclasses
 * number their own bits from {@link TRANSPORT_FIRST_FREE_BIT}.
 */
export const TRANSPORT_CLOSING = 1 << 0;
/** @internal The first state bit a subclass of {@link FlowControlTransport} may use. */
export const TRANSPORT_FIRST_FREE_BIT = 2;

/**
 * The base of every aioloop transport (asyncio's `BaseTransport` class; the
 * interface of the same name is the contract): extra info, the current
 * protocol and the closing flag. Subclasses supply what they know about a
 * key through `extraInfo(name)`; entries given at construction take
 * precedence, as asyncio's `extra` dict does.
 *
 * State lives in one small integer (`_state`) so that a transport per
 * connection costs one field for all its flags; bit 0 is closing.
 *
 * Transports over Node streams ({@link StreamTransportBase}), TLS transports
 * and transports over native sockets derive from
 * {@link FlowControlTransport}, which adds asyncio's write-buffer water marks.
 */
export abstract class AbstractTransport<P extends AnyProtocolLike = AnyProtocolLike> implements BaseTransport {
  /** @internal The protocol receiving this transport's events. */
  _protocol: P;
  /** @internal Extra info given by the creator (null: none). */
  _extra: Record<string, unknown> | null;
  /** @internal The state bits: {@link TRANSPORT_CLOSING}, then the subclasses' own. */
  _state = 0;

  constructor(protocol: P, extra?: Readonly<Record<string, unknown>> | null) {
    this._protocol = protocol;
    this._extra = extra !== undefined && extra !== null && Object.keys(extra).length > 0 ? { ...extra } : null;
  }

  /** Closes the transport; see each transport for what is flushed first. */
  abstract close(this: object): void;

  /** Whether the transport is closing or closed. */
  isClosing(): boolean {
    return (this._state & TRANSPORT_CLOSING) !== 0;
  }

  /**
   * Extra info by asyncio's key names (`'peername'`, `'sockname'`, `'socket'`,
   * `'pipe'`, `'subprocess'`, ...): an entry given at construction, else what
   * the transport itself knows, else `defaultValue`. Typed per key by
   * {@link TransportExtraInfo}.
   */
  getExtraInfo<K extends keyof TransportExtraInfo>(name: K): TransportExtraInfo[K] | undefined;
  getExtraInfo<K extends keyof TransportExtraInfo, D>(name: K, defaultValue: D): TransportExtraInfo[K] | D;
  getExtraInfo<V = unknown>(name: string, defaultValue?: V): V | undefined;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    const extra = this._extra;
    if (extra !== null && Object.prototype.hasOwnProperty.call(extra, name)) return extra[name];
    const value = this.extraInfo(name);
    return value === undefined ? defaultValue : value;
  }

  /** Switches the protocol: events arriving later go to the new one. */
  setProtocol(protocol: AnyProtocolLike): void {
    this.validateProtocol(protocol, 'setProtocol()');
    this._protocol = protocol as P;
    this.protocolChanged();
  }

  /** The current protocol. */
  getProtocol(): AnyProtocolLike {
    return this._protocol;
  }

  /** The current protocol, typed for the subclass. */
  protected get protocol(): P {
    return this._protocol;
  }

  /** What the transport itself knows about extra-info key `name` (undefined: nothing). */
  protected extraInfo(_name: string): unknown {
    return undefined;
  }

  /** Throws a TypeError naming `where` unless `protocol` suits this transport (default: any protocol object). */
  protected validateProtocol(protocol: unknown, where: string): void {
    checkProtocol(protocol, where);
  }

  /** Called after `setProtocol()` installed a new protocol. */
  protected protocolChanged(): void {}

  /** Marks the transport closing; false if it already was (so a close runs once). */
  protected beginClosing(): boolean {
    if ((this._state & TRANSPORT_CLOSING) !== 0) return false;
    this._state |= TRANSPORT_CLOSING;
    return true;
  }
}
