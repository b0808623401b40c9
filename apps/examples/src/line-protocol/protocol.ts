/**
 * A small line-based protocol, written once and tested three ways (real TCP,
 * in memory, and on a simulated network): see test/line-protocol.test.ts.
 *
 * Requests and responses are UTF-8 lines ending in "\n":
 *   PING <n>    -> PONG <n>
 *   ECHO <text> -> <text>
 *   QUIT        -> BYE, then the server closes the connection
 *   anything else -> ERR unknown command
 */
import { Protocol, TimeoutError, type EventLoop, type Future, type Transport } from '@aioloop/core';

/** Splits a byte stream into lines (without the "\n"); keeps the unfinished tail. */
export class LineSplitter {
  private tail = '';

  /** Feeds bytes; returns the complete lines they finish. */
  push(data: Buffer): string[] {
    const text = this.tail + data.toString('utf8');
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }
}

/** The server side: one instance per connection. */
export class LineServerProtocol extends Protocol {
  private transport: Transport | null = null;
  private readonly lines = new LineSplitter();

  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }

  override dataReceived(data: Buffer): void {
    for (const line of this.lines.push(data)) this.handle(line);
  }

  override eofReceived(): boolean {
    // The client has nothing more to ask: close our side too.
    return false;
  }

  private handle(line: string): void {
    const transport = this.transport;
    if (transport === null || transport.isClosing()) return;
    const space = line.indexOf(' ');
    const command = space < 0 ? line : line.slice(0, space);
    const argument = space < 0 ? '' : line.slice(space + 1);
    switch (command) {
      case 'PING':
        transport.write(Buffer.from(`PONG ${argument}\n`));
        break;
      case 'ECHO':
        transport.write(Buffer.from(`${argument}\n`));
        break;
      case 'QUIT':
        transport.write(Buffer.from('BYE\n'));
        transport.close();
        break;
      default:
        transport.write(Buffer.from('ERR unknown command\n'));
    }
  }
}

/** The connection was lost while a request waited for its response. */
export class ConnectionClosedError extends Error {
  override name = 'ConnectionClosedError';
}

/**
 * The client side: `request(line)` sends a line and resolves with the next
 * response line (responses come back in request order).
 */
export class LineClientProtocol extends Protocol {
  private transport: Transport | null = null;
  private readonly lines = new LineSplitter();
  private readonly pending: Future<string>[] = [];
  private lostError: Error | null = null;
  private closed = false;
  private readonly lost: Future<void>;

  constructor(private readonly loop: EventLoop) {
    super();
    this.lost = loop.createFuture<void>();
  }

  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }

  override dataReceived(data: Buffer): void {
    for (const line of this.lines.push(data)) {
      const waiter = this.pending.shift();
      if (waiter !== undefined && !waiter.done()) waiter.setResult(line);
    }
  }

  override connectionLost(exc: Error | null): void {
    this.closed = true;
    this.lostError = exc;
    if (!this.lost.done()) this.lost.setResult(undefined);
    for (const waiter of this.pending.splice(0)) {
      if (!waiter.done()) waiter.setException(new ConnectionClosedError(`connection lost before the response${exc ? `: ${exc.message}` : ''}`));
    }
  }

  /** Whether the connection is gone. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Sends `line` and waits for its response, at most `timeout` seconds of loop
   * time (then TimeoutError: the caller should drop the connection, since a
   * late response would answer the wrong request).
   */
  request(line: string, timeout = 10): Future<string> {
    const waiter = this.loop.createFuture<string>();
    if (this.closed || this.transport === null) {
      waiter.setException(new ConnectionClosedError(`not connected${this.lostError ? `: ${this.lostError.message}` : ''}`));
      return waiter;
    }
    this.pending.push(waiter);
    this.transport.write(Buffer.from(`${line}\n`));
    const timer = this.loop.callLater(timeout, () => {
      if (!waiter.done()) waiter.setException(new TimeoutError(`no response to ${JSON.stringify(line)} within ${timeout}s`));
    });
    waiter.addDoneCallback(() => timer.cancel());
    return waiter;
  }

  /** Resolves once the connection is gone (after BYE the server closes it). */
  waitClosed(): Future<void> {
    return this.lost;
  }

  /** Closes the connection. */
  close(): void {
    this.transport?.close();
  }

  /** Drops the connection at once. */
  abort(): void {
    this.transport?.abort();
  }
}
