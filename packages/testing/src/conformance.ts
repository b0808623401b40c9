/**
 * @aioloop/testing/conformance — the asyncio transport contract as a vitest
 * suite, for anyone who writes a transport. Import from this subpath only in
 * test files: it imports vitest (a peer dependency).
 */
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  EventLoop,
  sleep,
  type BaseTransport,
  type DatagramAddress,
  type DatagramTransport,
  type ReadTransport,
  type Transport,
  type WriteTransport,
} from '@aioloop/core';
// Through the package entry, so the published ESM-only build shares the CommonJS build's classes.
import {
  RecordingBufferedProtocol,
  RecordingDatagramProtocol,
  RecordingProtocol,
  SeededRandom,
  assertConnectionLostOnce,
  assertReceived,
  randomSeed,
  type RecordingProtocolOptions,
} from './index.js';

/** What the kit gives a pair factory. */
export interface StreamPairContext {
  /** The running loop the pair must live on. */
  readonly loop: EventLoop;
  /** Builds the protocol for the client end (the end the kit writes from first). Use it as the protocol factory. */
  readonly clientProtocol: () => RecordingProtocol;
  /** Builds the protocol for the server end. */
  readonly serverProtocol: () => RecordingProtocol;
}

/**
 * A connected pair, returned once both ends' `connectionMade` has run. For a
 * one-way pair (pipes), `client` only writes and `server` only reads.
 */
export interface StreamPairHandle {
  /** The client end's transport; its protocol came from `clientProtocol()`. */
  readonly client: WriteTransport | Transport;
  /** The server end's transport; its protocol came from `serverProtocol()`. */
  readonly server: ReadTransport | Transport;
  /** Releases what the factory created besides the transports (a server, a temp dir). Runs inside the loop. */
  cleanup?: () => void | PromiseLike<void>;
}

/** Builds one connected pair on `ctx.loop` (called inside a running loop task). */
export type MakeStreamPair = (ctx: StreamPairContext) => PromiseLike<StreamPairHandle>;

/** Options for {@link describeTransportConformance}. */
export interface TransportConformanceOptions {
  /** Makes each check's loop (default `new EventLoop()`); a TestLoop works for in-memory transports. */
  newLoop?: () => EventLoop;
  /** Loop seconds each wait may take before the check fails (default 10). */
  timeout?: number;
  /** The pair is one-way (pipes): the client only writes, the server only reads. Checks that need the other direction are skipped. */
  oneWay?: boolean;
  /** Bytes the flow-control check may write before it gives up waiting for `pauseWriting` (default 64 MiB). */
  maxFlowControlBytes?: number;
  /**
   * What `write()` after `writeEof()` does: asyncio's socket transports raise
   * (`'throws'`, the default for two-way pairs); its write-pipe transport
   * drops the data silently (`'ignored'`, the default for one-way pairs).
   * Either way the bytes must never reach the peer.
   */
  writeAfterEof?: 'throws' | 'ignored';
  /**
   * Whether the transport can half-close (default true). TLS transports
   * cannot: with `false` the kit checks that `canWriteEof()` is false and
   * `writeEof()` throws, and skips the half-close checks.
   */
  halfClose?: boolean;
}

/** What the kit gives a datagram pair factory. */
export interface DatagramPairContext {
  /** The running loop. */
  readonly loop: EventLoop;
  /** Builds the protocol of endpoint a. */
  readonly protocolA: () => RecordingDatagramProtocol;
  /** Builds the protocol of endpoint b. */
  readonly protocolB: () => RecordingDatagramProtocol;
}

/** Two datagram endpoints that can reach each other. */
export interface DatagramPairHandle {
  /** Endpoint a. */
  readonly a: DatagramTransport;
  /** Endpoint b. */
  readonly b: DatagramTransport;
  /** Where a reaches b (its `sendto` address). */
  readonly addressOfB: DatagramAddress;
  /** Where b reaches a. */
  readonly addressOfA: DatagramAddress;
  /** Releases anything else the factory created. */
  cleanup?: () => void | PromiseLike<void>;
}

/** Builds one datagram pair on `ctx.loop`. */
export type MakeDatagramPair = (ctx: DatagramPairContext) => PromiseLike<DatagramPairHandle>;

/** Options for {@link describeDatagramConformance}. */
export interface DatagramConformanceOptions {
  /** Makes each check's loop (default `new EventLoop()`). */
  newLoop?: () => EventLoop;
  /** Loop seconds each wait may take (default 10). */
  timeout?: number;
}

interface StreamEnv {
  loop: EventLoop;
  client: Transport;
  server: Transport;
  cp: RecordingProtocol;
  sp: RecordingProtocol;
  timeout: number;
}

/** Deterministic test bytes: position-dependent, so a reordering or a lost chunk shows. */
function pattern(size: number, seed = 0): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

function recordingOf(transport: BaseTransport, which: string): RecordingProtocol {
  const protocol = transport.getProtocol();
  if (!(protocol instanceof RecordingProtocol)) {
    throw new TypeError(`makePair: the ${which} transport's protocol is not the RecordingProtocol from ctx.${which}Protocol(); build its protocol with that factory`);
  }
  return protocol;
}

/** Lets a few loop iterations and 20 ms of loop time pass, so late callbacks would show. */
async function settle(iterations = 5): Promise<void> {
  for (let i = 0; i < iterations; i++) await sleep(0);
  await sleep(0.02);
}

/**
 * Registers the asyncio stream-transport contract as a vitest `describe`
 * block: ordering, half-close, the `eofReceived` return value, close versus
 * abort, flow-control callbacks at the water marks, pause/resume reading,
 * `setProtocol` mid-stream, `connectionLost` exactly once, writes after close,
 * and argument checks. `makePair` builds a fresh connected pair for each check.
 */
export function describeTransportConformance(name: string, makePair: MakeStreamPair, options: TransportConformanceOptions = {}): void {
  const timeout = options.timeout ?? 10;
  const oneWay = options.oneWay ?? false;
  const maxFlowBytes = options.maxFlowControlBytes ?? 64 * 1024 * 1024;
  const newLoop = options.newLoop ?? (() => new EventLoop());
  const twoWay = oneWay ? it.skip : it;
  const writeAfterEof = options.writeAfterEof ?? (oneWay ? 'ignored' : 'throws');
  const halfClose = options.halfClose ?? true;
  const withHalfClose = halfClose ? twoWay : it.skip;

  async function withPair(
    protocolOptions: { client?: RecordingProtocolOptions; server?: RecordingProtocolOptions },
    body: (env: StreamEnv) => Promise<void>,
  ): Promise<void> {
    const loop = newLoop();
    try {
      await loop.runUntilComplete(async () => {
        const pair = await makePair({
          loop,
          clientProtocol: () => new RecordingProtocol({ name: 'client', ...protocolOptions.client }),
          serverProtocol: () => new RecordingProtocol({ name: 'server', ...protocolOptions.server }),
        });
        const client = pair.client as Transport;
        const server = pair.server as Transport;
        const cp = recordingOf(client, 'client');
        const sp = recordingOf(server, 'server');
        try {
          await cp.waitFor('connectionMade', timeout);
          await sp.waitFor('connectionMade', timeout);
          await body({ loop, client, server, cp, sp, timeout });
        } finally {
          if (!client.isClosing()) client.abort();
          if (!server.isClosing()) {
            const abortable = server as Partial<Transport>;
            if (typeof abortable.abort === 'function') abortable.abort();
            else server.close();
          }
          await settle();
          await pair.cleanup?.();
        }
      });
    } finally {
      if (loop.isRunning()) loop.stop();
      else loop.close();
    }
  }

  describe(`${name}: asyncio transport conformance`, () => {
    it('calls connectionMade once on each end, before anything else', async () => {
      await withPair({}, async ({ cp, sp }) => {
        expect(cp.types()[0]).toBe('connectionMade');
        expect(sp.types()[0]).toBe('connectionMade');
        expect(cp.count('connectionMade')).toBe(1);
        expect(sp.count('connectionMade')).toBe(1);
        expect(cp.transport).not.toBeNull();
      });
    });

    it('delivers every byte written, in order, whatever the chunking', async () => {
      await withPair({}, async ({ client, sp }) => {
        const sizes = [1, 7, 100, 4096, 65536, 3, 200_000, 17, 1];
        const chunks = sizes.map((size, i) => pattern(size, i));
        const expected = Buffer.concat(chunks);
        for (const chunk of chunks.slice(0, 5)) client.write(chunk);
        client.writelines(chunks.slice(5));
        client.write(new Uint8Array(0));
        await sp.waitFor((p) => p.receivedBytes >= expected.length, timeout);
        assertReceived(sp, expected);
      });
    });

    twoWay('delivers bytes in both directions at once', async () => {
      await withPair({}, async ({ client, server, cp, sp }) => {
        const up = pattern(100_000, 1);
        const down = pattern(150_000, 2);
        client.write(up);
        server.write(down);
        await sp.waitFor((p) => p.receivedBytes >= up.length, timeout);
        await cp.waitFor((p) => p.receivedBytes >= down.length, timeout);
        assertReceived(sp, up);
        assertReceived(cp, down);
      });
    });

    it('accepts Buffer, Uint8Array, DataView and ArrayBuffer, and rejects a string with a TypeError', async () => {
      await withPair({}, async ({ client, sp }) => {
        const bytes = Buffer.from('abcdefgh');
        client.write(bytes.subarray(0, 2));
        client.write(new Uint8Array([0x63, 0x64]));
        client.write(new DataView(Uint8Array.from([0x65, 0x66]).buffer));
        client.write(Uint8Array.from([0x67, 0x68]).buffer);
        expect(() => client.write('text' as unknown as Uint8Array)).toThrow(TypeError);
        await sp.waitFor((p) => p.receivedBytes >= 8, timeout);
        assertReceived(sp, bytes);
      });
    });

    it('answers getExtraInfo with the default for an unknown key', async () => {
      await withPair({}, async ({ client, server }) => {
        expect(client.getExtraInfo('no-such-key', 'fallback')).toBe('fallback');
        expect(server.getExtraInfo('no-such-key')).toBeUndefined();
      });
    });

    (halfClose ? it.skip : it)('without half-close: canWriteEof() is false and writeEof() throws', async () => {
      await withPair({}, async ({ client }) => {
        expect(client.canWriteEof()).toBe(false);
        expect(() => client.writeEof()).toThrow();
      });
    });

    (halfClose ? it : it.skip)(`writeEof() sends the buffered data, then eofReceived once; write() afterwards ${writeAfterEof === 'throws' ? 'throws' : 'is ignored'}`, async () => {
      await withPair({ server: { eofReturn: true } }, async ({ client, sp }) => {
        expect(client.canWriteEof()).toBe(true);
        const data = pattern(300_000, 3);
        client.write(data);
        client.writeEof();
        if (writeAfterEof === 'throws') expect(() => client.write(Buffer.from('late'))).toThrow();
        else expect(() => client.write(Buffer.from('late'))).not.toThrow();
        await sp.waitFor('eofReceived', timeout);
        assertReceived(sp, data);
        expect(sp.count('eofReceived')).toBe(1);
        const types = sp.types();
        expect(types.lastIndexOf('dataReceived')).toBeLessThan(types.indexOf('eofReceived'));
      });
    });

    withHalfClose('eofReceived returning true keeps the transport open for writing back (half-close)', async () => {
      await withPair({ server: { eofReturn: true } }, async ({ client, server, cp, sp }) => {
        client.write(Buffer.from('request'));
        client.writeEof();
        await sp.waitFor('eofReceived', timeout);
        await settle();
        expect(server.isClosing()).toBe(false);
        expect(sp.lost).toBe(false);
        server.write(Buffer.from('response after EOF'));
        await cp.waitFor((p) => p.receivedBytes >= 18, timeout);
        assertReceived(cp, 'response after EOF');
        expect(client.isClosing()).toBe(false);
        server.close();
        await sp.waitFor('connectionLost', timeout);
        await cp.waitFor('eofReceived', timeout);
        assertConnectionLostOnce(sp, null);
      });
    });

    withHalfClose('eofReceived returning a falsy value closes the transport: connectionLost(null) follows', async () => {
      await withPair({ server: { eofReturn: false } }, async ({ client, server, cp, sp }) => {
        client.write(Buffer.from('bye'));
        client.writeEof();
        await sp.waitFor('connectionLost', timeout);
        expect(server.isClosing()).toBe(true);
        assertConnectionLostOnce(sp, null);
        assertReceived(sp, 'bye');
        await cp.waitFor('connectionLost', timeout);
        expect(cp.types()).toContain('eofReceived');
        assertConnectionLostOnce(cp, null);
      });
    });

    it('close() flushes the write buffer first, the peer sees EOF, and connectionLost(null) comes once', async () => {
      await withPair({}, async ({ client, cp, sp }) => {
        const data = pattern(2_000_000, 4);
        client.write(data);
        client.close();
        expect(client.isClosing()).toBe(true);
        client.close();
        await sp.waitFor('eofReceived', timeout);
        assertReceived(sp, data);
        await cp.waitFor('connectionLost', timeout);
        await settle();
        assertConnectionLostOnce(cp, null);
      });
    });

    it('abort() drops the write buffer and calls connectionLost(null) once; the peer gets at most a prefix', async () => {
      await withPair({}, async ({ client, server, cp, sp }) => {
        // Write until the transport itself holds bytes: how much the kernel takes at
        // once depends on the host (tcp_wmem), so a fixed size can all fit there and
        // then abort() has nothing to drop.
        const chunk = pattern(256 * 1024, 5);
        server.pauseReading();
        let written = 0;
        while (client.getWriteBufferSize() === 0) {
          if (written >= maxFlowBytes) throw new Error(`the write buffer stayed empty after writing ${written} bytes with the reader paused\n${cp.describe()}`);
          client.write(chunk);
          written += chunk.length;
        }
        client.abort();
        expect(client.isClosing()).toBe(true);
        client.abort();
        client.close();
        await cp.waitFor('connectionLost', timeout);
        server.resumeReading();
        await sp.waitFor((p) => p.lost || p.count('eofReceived') > 0, timeout);
        await settle();
        assertConnectionLostOnce(cp, null);
        const got = sp.received();
        expect(got.length).toBeLessThan(written);
        for (let at = 0; at < got.length; at += chunk.length) {
          const part = got.subarray(at, at + chunk.length);
          if (!part.equals(chunk.subarray(0, part.length))) throw new Error(`the peer's bytes at offset ${at} are not what was written`);
        }
      });
    });

    it('pauseWriting fires once above the high-water mark and resumeWriting once at the low one', async () => {
      await withPair({}, async ({ client, server, cp, sp }) => {
        client.setWriteBufferLimits(64 * 1024, 16 * 1024);
        expect(client.getWriteBufferLimits()).toEqual([16 * 1024, 64 * 1024]);
        server.pauseReading();
        const chunk = pattern(64 * 1024, 6);
        let written = 0;
        while (cp.count('pauseWriting') === 0) {
          if (written >= maxFlowBytes) throw new Error(`pauseWriting() never fired after writing ${written} bytes with the reader paused\n${cp.describe()}`);
          client.write(chunk);
          written += chunk.length;
          await sleep(0);
        }
        const paused = cp.first('pauseWriting');
        expect(paused?.writeBufferSize).toBeGreaterThan(64 * 1024);
        client.write(chunk);
        written += chunk.length;
        await sleep(0);
        expect(cp.count('pauseWriting')).toBe(1);
        expect(cp.count('resumeWriting')).toBe(0);
        server.resumeReading();
        await cp.waitFor('resumeWriting', timeout);
        expect(cp.first('resumeWriting')?.writeBufferSize).toBeLessThanOrEqual(16 * 1024);
        await sp.waitFor((p) => p.receivedBytes >= written, timeout);
        expect(sp.receivedBytes).toBe(written);
        expect(client.getWriteBufferSize()).toBe(0);
        expect(cp.count('pauseWriting')).toBe(1);
        expect(cp.count('resumeWriting')).toBe(1);
        const types = cp.types();
        expect(types.indexOf('pauseWriting')).toBeLessThan(types.indexOf('resumeWriting'));
      });
    });

    it('setWriteBufferLimits derives the missing mark as asyncio does and rejects high < low', async () => {
      await withPair({}, async ({ client }) => {
        client.setWriteBufferLimits(1000);
        expect(client.getWriteBufferLimits()).toEqual([250, 1000]);
        client.setWriteBufferLimits(undefined, 100);
        expect(client.getWriteBufferLimits()).toEqual([100, 400]);
        expect(() => client.setWriteBufferLimits(10, 20)).toThrow();
        expect(client.getWriteBufferLimits()).toEqual([100, 400]);
      });
    });

    it('pauseReading() holds dataReceived back until resumeReading()', async () => {
      await withPair({}, async ({ client, server, sp }) => {
        expect(server.isReading()).toBe(true);
        server.pauseReading();
        server.pauseReading();
        expect(server.isReading()).toBe(false);
        client.write(Buffer.from('held back'));
        await sleep(0.1);
        expect(sp.count('dataReceived')).toBe(0);
        server.resumeReading();
        expect(server.isReading()).toBe(true);
        await sp.waitFor((p) => p.receivedBytes >= 9, timeout);
        assertReceived(sp, 'held back');
      });
    });

    it('setProtocol() mid-stream sends later data and connectionLost to the new protocol only', async () => {
      await withPair({}, async ({ client, server, sp }) => {
        client.write(Buffer.from('first'));
        await sp.waitFor((p) => p.receivedBytes >= 5, timeout);
        const next = new RecordingProtocol({ name: 'server-2' });
        server.setProtocol(next);
        expect(server.getProtocol()).toBe(next);
        client.write(Buffer.from('second'));
        await next.waitFor((p) => p.receivedBytes >= 6, timeout);
        client.close();
        await next.waitFor('connectionLost', timeout);
        assertReceived(sp, 'first');
        assertReceived(next, 'second');
        expect(sp.lost).toBe(false);
        expect(sp.count('eofReceived')).toBe(0);
        assertConnectionLostOnce(next, null);
      });
    });

    it('setProtocol() to a BufferedProtocol delivers the same bytes through getBuffer/bufferUpdated', async () => {
      await withPair({}, async ({ client, server, sp }) => {
        client.write(Buffer.from('plain'));
        await sp.waitFor((p) => p.receivedBytes >= 5, timeout);
        const buffered = new RecordingBufferedProtocol({ name: 'server-buffered', bufferSize: 1000 });
        server.setProtocol(buffered);
        const data = pattern(50_000, 9);
        client.write(data);
        client.close();
        await buffered.waitFor('eofReceived', timeout);
        assertReceived(sp, 'plain');
        assertReceived(buffered, data);
        expect(buffered.getBufferCalls).toBeGreaterThanOrEqual(50);
        expect(buffered.count('bufferUpdated')).toBeGreaterThanOrEqual(50);
      });
    });

    it('calls connectionLost exactly once on each end, whatever mix of close() and abort()', async () => {
      // Seeded random mixes (set AIOLOOP_CONFORMANCE_SEED to replay one); each runs on a fresh pair.
      const seed = Number(process.env.AIOLOOP_CONFORMANCE_SEED ?? randomSeed());
      const random = new SeededRandom(seed);
      const steps = ['close', 'abort', 'write', 'tick'] as const;
      for (let round = 0; round < 4; round++) {
        const plan = (): (typeof steps)[number][] => {
          const ops = Array.from({ length: random.int(1, 5) }, () => steps[random.int(0, steps.length - 1)]!);
          if (!ops.includes('close') && !ops.includes('abort')) ops.push(random.chance(0.5) ? 'close' : 'abort');
          return ops;
        };
        const clientOps = plan();
        const serverOps = plan();
        const order = Array.from({ length: clientOps.length + serverOps.length }, (_, i) => i < clientOps.length);
        for (let i = order.length - 1; i > 0; i--) {
          const j = random.int(0, i);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const described = `seed ${seed} round ${round}: client ${clientOps.join(',')}; server ${serverOps.join(',')}`;
        try {
          await withPair({}, async ({ client, server, cp, sp }) => {
            let ci = 0;
            let si = 0;
            for (const isClient of order) {
              const op = isClient ? clientOps[ci++]! : serverOps[si++]!;
              const t = (isClient ? client : server) as Partial<Transport>;
              if (op === 'tick') await sleep(0);
              else if (op === 'write') t.write?.(Buffer.from('mix'));
              else if (op === 'close') t.close?.();
              else t.abort?.();
            }
            await cp.waitFor('connectionLost', timeout);
            await sp.waitFor('connectionLost', timeout);
            await settle();
            assertConnectionLostOnce(cp);
            assertConnectionLostOnce(sp);
            expect(cp.types().at(-1)).toBe('connectionLost');
            expect(sp.types().at(-1)).toBe('connectionLost');
          });
        } catch (error) {
          if (error instanceof Error) error.message = `${described}\n${error.message}`;
          throw error;
        }
      }
    });

    it('write() after close() does not throw, and nothing written after connectionLost reaches the peer', async () => {
      await withPair({}, async ({ client, cp, sp }) => {
        client.write(Buffer.from('before'));
        client.close();
        expect(() => client.write(Buffer.from('x'))).not.toThrow();
        await cp.waitFor('connectionLost', timeout);
        expect(() => client.write(Buffer.from('after-lost'))).not.toThrow();
        expect(() => client.writelines([Buffer.from('after-lost-2')])).not.toThrow();
        await sp.waitFor((p) => p.lost || p.count('eofReceived') > 0, timeout);
        await settle();
        expect(sp.received().toString('latin1')).not.toContain('after-lost');
        expect(sp.received().subarray(0, 6).toString()).toBe('before');
        assertConnectionLostOnce(cp, null);
      });
    });
  });
}

interface DatagramEnv {
  loop: EventLoop;
  pair: DatagramPairHandle;
  pa: RecordingDatagramProtocol;
  pb: RecordingDatagramProtocol;
  timeout: number;
}

/**
 * The datagram side of the contract: message boundaries, sender addresses,
 * `sendto` argument checks, close/abort with `connectionLost` exactly once,
 * and sends after close.
 */
export function describeDatagramConformance(name: string, makePair: MakeDatagramPair, options: DatagramConformanceOptions = {}): void {
  const timeout = options.timeout ?? 10;
  const newLoop = options.newLoop ?? (() => new EventLoop());

  async function withPair(body: (env: DatagramEnv) => Promise<void>): Promise<void> {
    const loop = newLoop();
    try {
      await loop.runUntilComplete(async () => {
        const pair = await makePair({
          loop,
          protocolA: () => new RecordingDatagramProtocol({ name: 'a' }),
          protocolB: () => new RecordingDatagramProtocol({ name: 'b' }),
        });
        const pa = pair.a.getProtocol();
        const pb = pair.b.getProtocol();
        if (!(pa instanceof RecordingDatagramProtocol) || !(pb instanceof RecordingDatagramProtocol)) {
          throw new TypeError('makePair: build the endpoints with ctx.protocolA() and ctx.protocolB()');
        }
        try {
          await pa.waitFor('connectionMade', timeout);
          await pb.waitFor('connectionMade', timeout);
          await body({ loop, pair, pa, pb, timeout });
        } finally {
          if (!pair.a.isClosing()) pair.a.abort();
          if (!pair.b.isClosing()) pair.b.abort();
          await settle();
          await pair.cleanup?.();
        }
      });
    } finally {
      if (loop.isRunning()) loop.stop();
      else loop.close();
    }
  }

  describe(`${name}: asyncio datagram transport conformance`, () => {
    it('keeps message boundaries and reports the sender address', async () => {
      await withPair(async ({ pair, pb }) => {
        const messages = [Buffer.from('one'), pattern(1000, 1), Buffer.from('three!')];
        for (const message of messages) pair.a.sendto(message, pair.addressOfB);
        await pb.waitFor((p) => p.datagrams.length >= messages.length, timeout);
        const got = pb.datagrams.map((d) => d.data.toString('hex')).sort();
        expect(got).toEqual(messages.map((m) => m.toString('hex')).sort());
        for (const d of pb.datagrams) expect(d.addr).toEqual(pair.addressOfA);
      });
    });

    it('delivers in both directions and answers sockname', async () => {
      await withPair(async ({ pair, pa, pb }) => {
        pair.a.sendto(Buffer.from('ping'), pair.addressOfB);
        await pb.waitFor('datagramReceived', timeout);
        pair.b.sendto(Buffer.from('pong'), pb.datagrams[0]?.addr);
        await pa.waitFor('datagramReceived', timeout);
        expect(pa.datagrams[0]?.data.toString()).toBe('pong');
        const sockname = pair.a.getExtraInfo('sockname') as DatagramAddress | undefined;
        if (Array.isArray(pair.addressOfA)) expect((sockname as unknown[] | undefined)?.[1]).toBe(pair.addressOfA[1]);
        else expect(sockname).toEqual(pair.addressOfA);
        expect(pair.a.getExtraInfo('no-such-key', 'fallback')).toBe('fallback');
      });
    });

    it('rejects a string payload with a TypeError', async () => {
      await withPair(async ({ pair }) => {
        expect(() => pair.a.sendto('text' as unknown as Uint8Array, pair.addressOfB)).toThrow(TypeError);
      });
    });

    it('close() calls connectionLost(null) exactly once, and sendto afterwards does not throw or deliver', async () => {
      await withPair(async ({ pair, pa, pb }) => {
        pair.a.close();
        expect(pair.a.isClosing()).toBe(true);
        pair.a.close();
        pair.a.abort();
        await pa.waitFor('connectionLost', timeout);
        expect(() => pair.a.sendto(Buffer.from('late'), pair.addressOfB)).not.toThrow();
        await settle();
        assertConnectionLostOnce(pa, null);
        expect(pb.datagrams.length).toBe(0);
      });
    });

    it('abort() calls connectionLost(null) exactly once', async () => {
      await withPair(async ({ pair, pb }) => {
        pair.b.abort();
        pair.b.abort();
        await pb.waitFor('connectionLost', timeout);
        await settle();
        assertConnectionLostOnce(pb, null);
      });
    });
  });
}

/**
 * Call inside a test that uses a simulated network: if the test fails, the
 * network's seed is printed (and added to the failure), so the run can be
 * replayed with `new SimulatedNetwork(loop, { seed })`.
 */
export function printSeedOnFailure(network: { readonly seed: number; describe(): string }): void {
  onTestFailed(({ task }) => {
    const line = `[@aioloop/testing] simulated network seed ${network.seed}: replay with { seed: ${network.seed} } (${network.describe()})`;
    console.error(line);
    for (const error of task.result?.errors ?? []) {
      if (typeof error.message === 'string' && !error.message.includes('replay with { seed')) error.message += `\n${line}`;
    }
  });
}
