import {
  RuntimeError,
  type BufferedProtocolLike,
  type DatagramAddress,
  type DatagramProtocolLike,
  type EventLoop,
  type Future,
  type ProtocolLike,
  type Task,
} from '@aioloop/core';
import { checkNonNegative, checkPositiveInt, checkProbability, describeValue } from './describe.js';
import { callSoonUnchecked } from '@aioloop/core/internal';
import { MemoryDatagramTransport, checkAddress, type DatagramFabric } from './memory-datagram.js';
import { MemoryStreamTransport, systemError, type MemoryStreamOptions, type StreamLink, type StreamSegment } from './memory-stream.js';
import { SeededRandom, randomSeed } from './prng.js';

/** How packets travel between two hosts. */
export interface LinkConditions {
  /** One-way delay in seconds (default 0.001). */
  latency?: number;
  /** Extra random delay in seconds, uniform in [0, jitter] (default 0). */
  jitter?: number;
  /** Bytes per second each direction carries (default Infinity). */
  bandwidth?: number;
  /** Probability that a packet is lost (default 0). Streams retransmit lost segments; datagrams are gone. */
  loss?: number;
  /** Probability that a datagram is held back and overtaken by later ones (default 0). */
  reorder?: number;
}

/** Options for {@link SimulatedNetwork}. */
export interface SimulatedNetworkOptions extends LinkConditions {
  /** The seed of every random choice (default: a random one, see `network.seed`). */
  seed?: number;
  /** First retransmission timeout of a stream segment in seconds, doubling per retry (default 0.2). */
  rto?: number;
  /** The longest retransmission timeout in seconds (default 10). */
  maxRto?: number;
  /** Retransmissions of one segment before the sender gives up with ETIMEDOUT (default 12). */
  maxRetransmits?: number;
  /** SYN attempts before createConnection fails with ETIMEDOUT (default 5: 1 + 2 + 4 + 8 s). */
  synAttempts?: number;
  /** Receive-buffer bytes of every stream (default 65536). */
  streamBufferSize?: number;
  /**
   * Seconds a connect to a host that is down waits before EHOSTUNREACH
   * (default 3: Linux's neighbour discovery gives up after 3 unanswered probes a second).
   */
  hostUnreachableAfter?: number;
}

/** Options of the simulated `createConnection`. */
export interface SimConnectionOptions {
  /** `[host, port]` to bind locally; the host must be the calling host (default: an ephemeral port). */
  localAddr?: readonly [string, number];
}

/** Options of the simulated `createServer`. */
export interface SimServerOptions {
  /** Start accepting at once (default true). */
  startServing?: boolean;
}

/** Options of the simulated `createDatagramEndpoint`. */
export interface SimDatagramOptions {
  /** `[host, port]` to bind (host must be the calling host; port 0 or omitted: ephemeral). */
  localAddr?: readonly [string, number];
  /** Connect to `[host, port]`: `sendto(data)` goes there and only its datagrams are received. */
  remoteAddr?: readonly [string, number];
}

type StreamProtocol = ProtocolLike | BufferedProtocolLike;

/** A listening socket of a {@link SimServer}. */
export interface SimSocketInfo {
  /** `[host, port]` the server listens on. */
  getsockname(): [string, number];
}

/**
 * A server on a simulated host: the same surface as `@aioloop/net`'s Server
 * (`close`, `waitClosed`, `isServing`, `startServing`, `serveForever`,
 * `sockets`, `closeClients`, `abortClients`, `getLoop`).
 */
export class SimServer {
  private serving: boolean;
  private closed = false;
  /** @internal Accepted connections still open. */
  readonly _transports = new Set<MemoryStreamTransport>();
  /** Woken when the server closes (serveForever). */
  private readonly closeWaiters: (() => void)[] = [];
  /** Woken when the server is closed and its connections are gone (waitClosed). */
  private readonly goneWaiters: (() => void)[] = [];

  /** @internal */
  constructor(
    private readonly loop: EventLoop,
    private readonly host: SimHost,
    /** The port it listens on. */
    readonly port: number,
    /** @internal */ readonly _factory: () => StreamProtocol,
    startServing: boolean,
  ) {
    this.serving = startServing;
  }

  /** The listening socket, as `[{ getsockname() }]` (empty once closed). */
  get sockets(): SimSocketInfo[] {
    if (this.closed) return [];
    const name: [string, number] = [this.host.name, this.port];
    return [{ getsockname: () => [...name] as [string, number] }];
  }

  /** Whether it accepts connections. */
  isServing(): boolean {
    return this.serving && !this.closed;
  }

  /** Starts accepting (if created with `startServing: false`). */
  startServing(): Promise<void> {
    if (this.closed) return Promise.reject(new RuntimeError(`server ${this.host.name}:${this.port} is closed`));
    this.serving = true;
    return Promise.resolve();
  }

  /** Accepts until the server is closed (or the awaiting task is cancelled). */
  async serveForever(): Promise<void> {
    if (this.closed) throw new RuntimeError(`server ${this.host.name}:${this.port} is closed`);
    this.serving = true;
    const future = this.loop.createFuture<void>();
    this.closeWaiters.push(() => future.done() || future.cancel());
    await future;
  }

  /** Stops listening; connections already accepted stay open (as asyncio). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.serving = false;
    this.host._unlisten(this.port, this);
    this.maybeWake();
  }

  /** Resolves once the server is closed and every accepted connection is gone. */
  async waitClosed(): Promise<void> {
    if (this.closed && this._transports.size === 0) return;
    const future = this.loop.createFuture<void>();
    this.goneWaiters.push(() => future.done() || future.setResult(undefined));
    await future;
  }

  /** Closes every accepted connection. */
  closeClients(): void {
    for (const transport of [...this._transports]) transport.close();
  }

  /** Aborts every accepted connection. */
  abortClients(): void {
    for (const transport of [...this._transports]) transport.abort();
  }

  /** The loop it runs on. */
  getLoop(): EventLoop {
    return this.loop;
  }

  /** @internal */
  _connectionGone(transport: MemoryStreamTransport): void {
    this._transports.delete(transport);
    this.maybeWake();
  }

  private maybeWake(): void {
    if (!this.closed) return;
    for (const wake of this.closeWaiters.splice(0)) wake();
    if (this._transports.size > 0) return;
    for (const wake of this.goneWaiters.splice(0)) wake();
  }

  toString(): string {
    return `<SimServer ${this.host.name}:${this.port}${this.closed ? ' closed' : ''}>`;
  }
}

/** One TCP-like connection on the simulated network. */
interface SimConnection {
  readonly id: number;
  readonly ends: [MemoryStreamTransport, MemoryStreamTransport];
  readonly hosts: [SimHost, SimHost];
  /** Next sequence number to send, per direction (index of the sending end). */
  readonly sendSeq: [number, number];
  /** Next sequence number to deliver, per direction (index of the sending end). */
  readonly recvSeq: [number, number];
  readonly held: [Map<number, StreamSegment>, Map<number, StreamSegment>];
  dead: boolean;
  lostEnds: number;
}

/**
 * The loop as seen from a simulated host: every method of the network's loop,
 * with `createConnection`, `createServer` and `createDatagramEndpoint` going
 * through that host. Assignable to `EventLoop`, so production code that takes
 * a loop takes it unchanged.
 */
export type SimHostLoop = EventLoop & Pick<SimHost, 'createConnection' | 'createServer' | 'createDatagramEndpoint'>;

/**
 * A host on a {@link SimulatedNetwork}: the same `createConnection`,
 * `createServer` and `createDatagramEndpoint` calls code uses in production,
 * on virtual addresses that never touch the OS.
 */
export class SimHost {
  private readonly listeners = new Map<number, SimServer>();
  private readonly datagramPorts = new Map<number, MemoryDatagramTransport>();
  private nextEphemeral = 49152;
  private loopView: SimHostLoop | null = null;

  /** @internal */
  constructor(
    private readonly network: SimulatedNetwork,
    /** The host's address. */
    readonly name: string,
  ) {}

  /**
   * A view of the network's loop on which `createConnection`, `createServer`
   * and `createDatagramEndpoint` are this host's: hand it to code written
   * against `loop.createConnection(...)`. Every other method is the loop's own.
   */
  get loop(): SimHostLoop {
    if (this.loopView !== null) return this.loopView;
    const loop = this.network.loop;
    const own: Record<string, unknown> = {
      createConnection: this.createConnection.bind(this),
      createServer: this.createServer.bind(this),
      createDatagramEndpoint: this.createDatagramEndpoint.bind(this),
    };
    this.loopView = new Proxy(loop, {
      get: (target, prop, _receiver) => {
        if (typeof prop === 'string' && Object.prototype.hasOwnProperty.call(own, prop)) return own[prop];
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as SimHostLoop;
    return this.loopView;
  }

  /**
   * Opens a stream connection to `host:port` (asyncio create_connection).
   * Resolves with `[transport, protocol]` after the handshake and
   * `connectionMade`; rejects with ECONNREFUSED if nothing listens there,
   * ETIMEDOUT if the SYN never gets through (partition, loss), EHOSTUNREACH
   * if the host is down ({@link SimulatedNetwork.hostDown}), ENOTFOUND for
   * an unknown host.
   */
  createConnection<P extends StreamProtocol>(
    protocolFactory: () => P,
    host: string,
    port: number,
    options: SimConnectionOptions = {},
  ): Task<[MemoryStreamTransport, P]> {
    if (typeof protocolFactory !== 'function') throw new TypeError(`createConnection(): protocolFactory must be a function, got ${describeValue(protocolFactory)}`);
    if (typeof host !== 'string' || host.length === 0) throw new TypeError(`createConnection(): host must be a host name of the simulated network, got ${describeValue(host)}`);
    checkPort(port, 'createConnection(): port', false);
    if (options === null || typeof options !== 'object') throw new TypeError(`createConnection(): options must be an object, got ${describeValue(options)}`);
    if (options.localAddr !== undefined) {
      checkAddress(options.localAddr, 'createConnection(): localAddr');
      this.checkOwnHost(options.localAddr[0], 'createConnection');
    }
    const localAddr = options.localAddr;
    return this.network.loop.createTask(async () => {
      const localPort = localAddr !== undefined && localAddr[1] !== 0 ? localAddr[1] : this.ephemeral();
      return await this.network._connect(this, localPort, host, port, protocolFactory);
    }, { name: 'createConnection' });
  }

  /**
   * Listens on `host:port` of this host (asyncio create_server); port 0 picks
   * a free one (see `server.sockets[0].getsockname()`). `host` must be this
   * host's name, `'0.0.0.0'`, `'::'` or null.
   */
  createServer(
    protocolFactory: () => StreamProtocol,
    host: string | null,
    port: number,
    options: SimServerOptions = {},
  ): Task<SimServer> {
    if (typeof protocolFactory !== 'function') throw new TypeError(`createServer(): protocolFactory must be a function, got ${describeValue(protocolFactory)}`);
    this.checkOwnHost(host, 'createServer');
    checkPort(port, 'createServer(): port', true);
    if (options === null || typeof options !== 'object') throw new TypeError(`createServer(): options must be an object, got ${describeValue(options)}`);
    return this.network.loop.createTask(async () => {
      const actual = port === 0 ? this.ephemeral() : port;
      if (this.listeners.has(actual)) throw systemError('EADDRINUSE', `address already in use ${this.name}:${actual}`, 'listen');
      const server = new SimServer(this.network.loop, this, actual, protocolFactory, options.startServing ?? true);
      this.listeners.set(actual, server);
      return server;
    }, { name: 'createServer' });
  }

  /**
   * A datagram endpoint on this host (asyncio create_datagram_endpoint).
   * Datagrams meet the network's latency, loss, reordering and partitions.
   */
  createDatagramEndpoint<P extends DatagramProtocolLike>(
    protocolFactory: () => P,
    options: SimDatagramOptions = {},
  ): Task<[MemoryDatagramTransport, P]> {
    if (typeof protocolFactory !== 'function') throw new TypeError(`createDatagramEndpoint(): protocolFactory must be a function, got ${describeValue(protocolFactory)}`);
    if (options === null || typeof options !== 'object') throw new TypeError(`createDatagramEndpoint(): options must be an object such as { localAddr, remoteAddr }, got ${describeValue(options)}`);
    if (options.localAddr !== undefined) {
      checkAddress(options.localAddr, 'createDatagramEndpoint(): localAddr');
      this.checkOwnHost(options.localAddr[0], 'createDatagramEndpoint');
    }
    if (options.remoteAddr !== undefined) checkAddress(options.remoteAddr, 'createDatagramEndpoint(): remoteAddr');
    const { localAddr, remoteAddr } = options;
    const loop = this.network.loop;
    return loop.createTask(async () => {
      const port = localAddr === undefined || localAddr[1] === 0 ? this.ephemeral() : localAddr[1];
      if (this.datagramPorts.has(port)) throw systemError('EADDRINUSE', `address already in use ${this.name}:${port}`, 'bind');
      const protocol = protocolFactory();
      const transport = new MemoryDatagramTransport(loop, protocol, this.network._fabric, [this.name, port], { remoteAddr });
      this.datagramPorts.set(port, transport);
      const ready = loop.createFuture<void>();
      callSoonUnchecked(loop, () => {
        transport._connectionMade();
        ready.setResult(undefined);
      });
      await ready;
      return [transport, protocol] as [MemoryDatagramTransport, P];
    }, { name: 'createDatagramEndpoint' });
  }

  /** @internal */
  _listener(port: number): SimServer | undefined {
    const server = this.listeners.get(port);
    return server !== undefined && server.isServing() ? server : undefined;
  }

  /** @internal */
  _unlisten(port: number, server: SimServer): void {
    if (this.listeners.get(port) === server) this.listeners.delete(port);
  }

  /** @internal */
  _datagramEndpoint(port: number): MemoryDatagramTransport | undefined {
    return this.datagramPorts.get(port);
  }

  /** @internal */
  _unbindDatagram(port: number, endpoint: MemoryDatagramTransport): void {
    if (this.datagramPorts.get(port) === endpoint) this.datagramPorts.delete(port);
  }

  /** @internal */
  ephemeral(): number {
    for (let i = 0; i < 16384; i++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port >= 65535 ? 49152 : port + 1;
      if (!this.listeners.has(port) && !this.datagramPorts.has(port)) return port;
    }
    throw systemError('EADDRNOTAVAIL', `no free ephemeral port on ${this.name}`, 'bind');
  }

  private checkOwnHost(host: string | null, method: string): void {
    if (host === null || host === undefined || host === this.name || host === '0.0.0.0' || host === '::' || host === '') return;
    throw new TypeError(`${method}(): host ${describeValue(host)} is not this simulated host (${this.name}); use ${JSON.stringify(this.name)}, '0.0.0.0' or null`);
  }

  toString(): string {
    return `<SimHost ${this.name}>`;
  }
}

function checkPort(port: unknown, where: string, allowZero: boolean): asserts port is number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new TypeError(`${where} must be a whole number ${allowZero ? '0' : '1'}-65535, got ${describeValue(port)}`);
  }
}

function normalizeConditions(conditions: LinkConditions, where: string): Required<LinkConditions> {
  if (conditions === null || typeof conditions !== 'object') throw new TypeError(`${where} must be an object, got ${describeValue(conditions)}`);
  const bandwidth = conditions.bandwidth ?? Infinity;
  if (typeof bandwidth !== 'number' || !(bandwidth > 0)) throw new TypeError(`${where}.bandwidth must be bytes per second > 0 (Infinity for unlimited), got ${describeValue(bandwidth)}`);
  return {
    latency: checkNonNegative(conditions.latency ?? 0.001, `${where}.latency`),
    jitter: checkNonNegative(conditions.jitter ?? 0, `${where}.jitter`),
    bandwidth,
    loss: checkProbability(conditions.loss ?? 0, `${where}.loss`),
    reorder: checkProbability(conditions.reorder ?? 0, `${where}.reorder`),
  };
}

/**
 * A simulated network of virtual hosts on one loop (normally a TestLoop, so
 * minutes of network time pass in milliseconds). Every random choice — loss,
 * jitter, reordering — comes from one seeded generator, so a run with the same
 * seed and the same code replays exactly; print `network.seed` when a test
 * fails (`printSeedOnFailure(network)` from `@aioloop/testing/conformance`).
 *
 * Streams behave like TCP: ordered and reliable, a lost segment is
 * retransmitted after a timeout that doubles (so loss shows as delay), a
 * partition stalls the stream until `heal()` (or ETIMEDOUT after
 * `maxRetransmits`), `reset()` kills a connection with ECONNRESET, and
 * `hostDown()` makes a host unreachable (EHOSTUNREACH) until `hostUp()`.
 * Datagrams behave like UDP: lost, delayed, reordered, dropped in partitions.
 */
export class SimulatedNetwork {
  /** The loop everything runs on. */
  readonly loop: EventLoop;
  /** The seed of this run: pass it back as `{ seed }` to replay. */
  readonly seed: number;
  /** The generator all random choices come from. */
  readonly random: SeededRandom;
  private readonly hosts = new Map<string, SimHost>();
  private readonly defaults: Required<LinkConditions>;
  private readonly links = new Map<string, Required<LinkConditions>>();
  private readonly partitions = new Set<string>();
  private readonly downHosts = new Set<string>();
  private readonly hostUnreachableAfter: number;
  private readonly rto: number;
  private readonly maxRto: number;
  private readonly maxRetransmits: number;
  private readonly synAttempts: number;
  private readonly streamOptions: MemoryStreamOptions;
  private readonly busyUntil = new Map<string, number>();
  private readonly connections = new Map<MemoryStreamTransport, SimConnection>();
  private nextConnectionId = 1;
  /** Packets dropped so far (loss and partitions), for tests and diagnostics. */
  dropped = 0;
  /** Packets delivered so far. */
  delivered = 0;
  /** @internal */ readonly _fabric: DatagramFabric;
  private readonly streamLink: StreamLink;

  constructor(loop: EventLoop, options: SimulatedNetworkOptions = {}) {
    if (loop === null || typeof loop !== 'object' || typeof (loop as EventLoop).callLater !== 'function') {
      throw new TypeError(`SimulatedNetwork(loop): loop must be an event loop (a TestLoop for virtual time), got ${describeValue(loop)}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`SimulatedNetwork(): options must be an object, got ${describeValue(options)}`);
    this.loop = loop;
    const seed = options.seed ?? randomSeed();
    this.random = new SeededRandom(seed);
    this.seed = this.random.seed;
    this.defaults = normalizeConditions(options, 'SimulatedNetwork options');
    this.rto = checkNonNegative(options.rto ?? 0.2, 'rto');
    this.maxRto = checkNonNegative(options.maxRto ?? 10, 'maxRto');
    this.maxRetransmits = checkPositiveInt(options.maxRetransmits ?? 12, 'maxRetransmits');
    this.synAttempts = checkPositiveInt(options.synAttempts ?? 5, 'synAttempts');
    this.hostUnreachableAfter = checkNonNegative(options.hostUnreachableAfter ?? 3, 'hostUnreachableAfter');
    this.streamOptions = { bufferSize: options.streamBufferSize ?? 65536 };
    this._fabric = this.makeFabric();
    this.streamLink = this.makeStreamLink();
  }

  /** The host with address `name`, created on first use. */
  host(name: string): SimHost {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(`host(): name must be a non-empty string such as '192.0.2.1' or 'host-a', got ${describeValue(name)}`);
    let host = this.hosts.get(name);
    if (host === undefined) {
      host = new SimHost(this, name);
      this.hosts.set(name, host);
    }
    return host;
  }

  /** Sets the conditions between hosts `a` and `b` (both directions), overriding the network's defaults. */
  setLink(a: string | SimHost, b: string | SimHost, conditions: LinkConditions): void {
    const normalized = normalizeConditions({ ...this.defaults, ...conditions }, 'setLink() conditions');
    const [ka, kb] = [nameOf(a), nameOf(b)];
    this.links.set(`${ka}\u0000${kb}`, normalized);
    this.links.set(`${kb}\u0000${ka}`, normalized);
  }

  /** Cuts every path between a host of `groupA` and a host of `groupB` until `heal()`. */
  partition(groupA: readonly (string | SimHost)[], groupB: readonly (string | SimHost)[]): void {
    if (!Array.isArray(groupA) || !Array.isArray(groupB)) throw new TypeError('partition(groupA, groupB): both groups must be arrays of host names');
    for (const a of groupA) {
      for (const b of groupB) {
        this.partitions.add(`${nameOf(a)}\u0000${nameOf(b)}`);
        this.partitions.add(`${nameOf(b)}\u0000${nameOf(a)}`);
      }
    }
  }

  /** Removes every partition. */
  heal(): void {
    this.partitions.clear();
  }

  /**
   * Takes `host` off the network, as a powered-off machine or a pulled cable:
   * nothing reaches it or leaves it, and the sender's side hears "no route to
   * host" as from a router or failed neighbour discovery. A connect to it
   * rejects with EHOSTUNREACH after `hostUnreachableAfter` seconds; an open
   * connection to it stalls and, when its retransmissions run out, ends with
   * EHOSTUNREACH (not ETIMEDOUT: Linux reports the ICMP error it kept); a
   * connected datagram endpoint sending to it gets `errorReceived(EHOSTUNREACH)`.
   * Its own sockets keep their state, so `hostUp()` lets open connections go on.
   */
  hostDown(host: string | SimHost): void {
    this.downHosts.add(nameOf(host));
  }

  /** Puts a host taken down with {@link hostDown} back on the network. */
  hostUp(host: string | SimHost): void {
    this.downHosts.delete(nameOf(host));
  }

  /** Whether `a` and `b` can reach each other now (no partition between them, neither down). */
  reachable(a: string | SimHost, b: string | SimHost): boolean {
    const [ka, kb] = [nameOf(a), nameOf(b)];
    return !this.downHosts.has(ka) && !this.downHosts.has(kb) && !this.partitions.has(`${ka}\u0000${kb}`);
  }

  /** Resets the connection `transport` belongs to: both ends get connectionLost(ECONNRESET). */
  reset(transport: MemoryStreamTransport): void {
    const connection = this.connections.get(transport);
    if (connection === undefined) throw new TypeError(`reset(): ${describeValue(transport)} is not an open connection of this network`);
    this.kill(connection, () => systemError('ECONNRESET', 'connection reset by peer'));
  }

  /** Stream connections with at least one end still open. */
  get openConnections(): number {
    let n = 0;
    for (const connection of new Set(this.connections.values())) if (!connection.dead) n++;
    return n;
  }

  /** A one-line description with the seed, for failure messages. */
  describe(): string {
    return `SimulatedNetwork(seed=${this.seed}, hosts=[${[...this.hosts.keys()].join(', ')}], time=${this.loop.time()}s, delivered=${this.delivered}, dropped=${this.dropped})`;
  }

  // ------------------------------------------------------------ internals

  private conditions(from: string, to: string): Required<LinkConditions> {
    return this.links.get(`${from}\u0000${to}`) ?? this.defaults;
  }

  /** Seconds until a packet of `size` bytes from `from` to `to` has been put on the wire (bandwidth queueing). */
  private departure(from: string, to: string, size: number, bandwidth: number): number {
    const now = this.loop.time();
    if (bandwidth === Infinity) return now;
    const key = `${from}\u0000${to}`;
    const start = Math.max(now, this.busyUntil.get(key) ?? now);
    const done = start + size / bandwidth;
    this.busyUntil.set(key, done);
    return done;
  }

  private travel(conditions: Required<LinkConditions>): number {
    return conditions.latency + (conditions.jitter > 0 ? this.random.next() * conditions.jitter : 0);
  }

  private at(when: number, callback: () => void): void {
    this.loop.callAt(when, callback);
  }

  /** @internal The TCP-like handshake. */
  _connect<P extends StreamProtocol>(
    client: SimHost,
    localPort: number,
    hostName: string,
    port: number,
    factory: () => P,
  ): Future<[MemoryStreamTransport, P]> {
    const loop = this.loop;
    const result = loop.createFuture<[MemoryStreamTransport, P]>();
    const target = this.hosts.get(hostName);
    if (target === undefined) {
      callSoonUnchecked(loop, () => result.setException(systemError('ENOTFOUND', `${hostName} is not a host of the simulated network (${this.describe()})`, 'getaddrinfo')));
      return result;
    }
    if (this.downHosts.has(hostName) && !this.downHosts.has(client.name)) {
      this.dropped++;
      this.at(loop.time() + this.hostUnreachableAfter, () => {
        if (!result.done()) result.setException(systemError('EHOSTUNREACH', `connect EHOSTUNREACH ${hostName}:${port}`, 'connect'));
      });
      return result;
    }
    const attempt = (n: number): void => {
      if (result.done()) return;
      const there = this.conditions(client.name, hostName);
      const lost = !this.reachable(client.name, hostName) || this.random.chance(there.loss);
      if (lost) {
        this.dropped++;
        if (n + 1 >= this.synAttempts) {
          const waited = 2 ** n;
          this.at(loop.time() + waited, () => {
            if (!result.done()) result.setException(systemError('ETIMEDOUT', `connect to ${hostName}:${port} timed out`, 'connect'));
          });
        } else {
          this.at(loop.time() + 2 ** n, () => attempt(n + 1));
        }
        return;
      }
      this.delivered++;
      this.at(loop.time() + this.travel(there), () => {
        const back = this.conditions(hostName, client.name);
        const server = target._listener(port);
        const rtt = this.travel(back);
        if (server === undefined) {
          this.at(loop.time() + rtt, () => {
            if (!result.done()) result.setException(systemError('ECONNREFUSED', `connect ECONNREFUSED ${hostName}:${port}`, 'connect'));
          });
          return;
        }
        // Accepted: the server end exists now, the client end when the SYN-ACK arrives.
        const serverProtocol = server._factory();
        const clientProtocol = factory();
        const serverEnd = new MemoryStreamTransport(loop, serverProtocol, this.streamLink, {
          ...this.streamOptions,
          extra: { sockname: [hostName, port], peername: [client.name, localPort] },
        });
        const clientEnd = new MemoryStreamTransport(loop, clientProtocol, this.streamLink, {
          ...this.streamOptions,
          extra: { sockname: [client.name, localPort], peername: [hostName, port] },
        });
        serverEnd._peer = clientEnd;
        clientEnd._peer = serverEnd;
        const connection: SimConnection = {
          id: this.nextConnectionId++,
          ends: [clientEnd, serverEnd],
          hosts: [client, target],
          sendSeq: [0, 0],
          recvSeq: [0, 0],
          held: [new Map(), new Map()],
          dead: false,
          lostEnds: 0,
        };
        this.connections.set(clientEnd, connection);
        this.connections.set(serverEnd, connection);
        server._transports.add(serverEnd);
        this.watchClose(serverEnd, () => server._connectionGone(serverEnd));
        this.watchClose(clientEnd, () => undefined);
        serverEnd._connectionMade();
        this.at(loop.time() + rtt, () => {
          clientEnd._connectionMade();
          if (!result.done()) result.setResult([clientEnd, clientProtocol]);
        });
      });
    };
    attempt(0);
    return result;
  }

  /** Forgets a connection once both ends reported connectionLost. */
  private watchClose(end: MemoryStreamTransport, onGone: () => void): void {
    end._onLost = () => {
      const connection = this.connections.get(end);
      onGone();
      if (connection === undefined) return;
      connection.lostEnds++;
      if (connection.lostEnds >= 2) {
        connection.dead = true;
        for (const e of connection.ends) this.connections.delete(e);
      }
    };
  }

  private kill(connection: SimConnection, error: () => Error): void {
    if (connection.dead) return;
    connection.dead = true;
    for (const end of connection.ends) end._reset(error());
  }

  private makeStreamLink(): StreamLink {
    return {
      send: (from, segment) => {
        const connection = this.connections.get(from);
        if (connection === undefined || connection.dead) {
          // The connection is gone on this side: nothing travels any more.
          return;
        }
        const dir = connection.ends[0] === from ? 0 : 1;
        const seq = connection.sendSeq[dir]++;
        const src = connection.hosts[dir].name;
        const dst = connection.hosts[1 - dir]!.name;
        const size = segment.kind === 'data' ? segment.bytes.byteLength + 40 : 40;
        const conditions = this.conditions(src, dst);
        const leave = this.departure(src, dst, size, conditions.bandwidth);
        const transmit = (tries: number): void => {
          if (connection.dead) return;
          if (!this.reachable(src, dst) || this.random.chance(conditions.loss)) {
            this.dropped++;
            if (tries >= this.maxRetransmits) {
              // The sender gives up; the receiver is not told (a half-open connection, as in TCP).
              connection.dead = true;
              from._reset(
                this.downHosts.has(dst)
                  ? systemError('EHOSTUNREACH', `no route to host ${dst} after ${tries} retransmissions`, 'write')
                  : systemError('ETIMEDOUT', `connection to ${dst} timed out after ${tries} retransmissions`, 'write'),
              );
              return;
            }
            const backoff = Math.min(this.maxRto, this.rto * 2 ** tries);
            this.at(this.loop.time() + backoff, () => transmit(tries + 1));
            return;
          }
          this.delivered++;
          this.at(this.loop.time() + this.travel(conditions), () => this.arrive(connection, dir, seq, segment));
        };
        this.at(leave, () => transmit(0));
      },
      ack: (from, nbytes) => {
        const connection = this.connections.get(from);
        if (connection === undefined) {
          callSoonUnchecked(this.loop, () => from._peer?._acked(nbytes));
          return;
        }
        const dir = connection.ends[0] === from ? 0 : 1;
        const src = connection.hosts[dir].name;
        const dst = connection.hosts[1 - dir]!.name;
        const deliver = (): void => {
          if (!this.reachable(src, dst)) {
            this.at(this.loop.time() + this.rto, deliver);
            return;
          }
          this.at(this.loop.time() + this.conditions(src, dst).latency, () => from._peer?._acked(nbytes));
        };
        deliver();
      },
    };
  }

  /** In-order delivery per direction: segments that overtook a retransmission wait for it. */
  private arrive(connection: SimConnection, dir: number, seq: number, segment: StreamSegment): void {
    const held = connection.held[dir] as Map<number, StreamSegment>;
    held.set(seq, segment);
    const receiver = connection.ends[1 - dir] as MemoryStreamTransport;
    for (;;) {
      const next = connection.recvSeq[dir] as number;
      const ready = held.get(next);
      if (ready === undefined) break;
      held.delete(next);
      connection.recvSeq[dir] = next + 1;
      receiver._arrive(ready);
    }
  }

  private makeFabric(): DatagramFabric {
    return {
      route: (from, to, data) => {
        const [srcName] = from.localAddr as readonly [string, number];
        if (typeof to === 'string') return 'ECONNREFUSED';
        const [dstName, dstPort] = to;
        const target = this.hosts.get(dstName);
        if (target === undefined) {
          this.dropped++;
          return true; // routed into the void: no answer, as on a real network
        }
        if (this.downHosts.has(srcName)) {
          this.dropped++;
          return true; // a host that is down sends nothing, and hears nothing back
        }
        if (this.downHosts.has(dstName)) {
          this.dropped++;
          return 'EHOSTUNREACH';
        }
        const conditions = this.conditions(srcName, dstName);
        const leave = this.departure(srcName, dstName, data.byteLength + 28, conditions.bandwidth);
        if (!this.reachable(srcName, dstName) || this.random.chance(conditions.loss)) {
          this.dropped++;
          return true;
        }
        let delay = this.travel(conditions);
        if (this.random.chance(conditions.reorder)) delay += conditions.latency + this.random.next() * Math.max(conditions.latency, 0.001) * 4;
        const sender: DatagramAddress = from.localAddr;
        if (target._datagramEndpoint(dstPort) === undefined) {
          // Nobody listens: the datagram is dropped there (a connected sender gets ECONNREFUSED).
          this.dropped++;
          return 'ECONNREFUSED';
        }
        this.at(leave + delay, () => {
          const endpoint = target._datagramEndpoint(dstPort);
          if (endpoint === undefined) {
            this.dropped++;
            return;
          }
          this.delivered++;
          endpoint._deliver(data, sender);
        });
        return true;
      },
      unbind: (endpoint) => {
        const addr = endpoint.localAddr;
        if (typeof addr === 'string') return;
        this.hosts.get(addr[0])?._unbindDatagram(addr[1], endpoint);
      },
    };
  }
}

function nameOf(host: string | SimHost): string {
  if (host instanceof SimHost) return host.name;
  if (typeof host === 'string' && host.length > 0) return host;
  throw new TypeError(`expected a host name or SimHost, got ${describeValue(host)}`);
}

