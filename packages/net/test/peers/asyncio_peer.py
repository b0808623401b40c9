"""A Python asyncio peer for @aioloop/net's interop tests (stdlib only).

Usage:
  asyncio_peer.py server-halfclose        Listen on 127.0.0.1:0, print the port; for one
                                          connection: read to EOF (eof_received keeps it
                                          open), then reply "got <n> <sha256>" and close.
  asyncio_peer.py server-eof-first        Listen; on connection send "hello from python" and
                                          write_eof() at once, then read to EOF and print a
                                          JSON report on stdout, then close.
  asyncio_peer.py client <port> <nbytes>  Connect to 127.0.0.1:<port>, send <nbytes> of a
                                          pattern, write_eof(), read to EOF, print a JSON
                                          report on stdout.
"""
import asyncio
import hashlib
import json
import sys


def pattern(n):
    return bytes((i * 31 + 7) & 0xFF for i in range(n))


class HalfCloseServer(asyncio.Protocol):
    def __init__(self, done):
        self.done = done
        self.buf = bytearray()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data

    def eof_received(self):
        digest = hashlib.sha256(self.buf).hexdigest()
        self.transport.write(f"got {len(self.buf)} {digest}".encode())
        self.transport.close()
        return True

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(None)


class EofFirstServer(asyncio.Protocol):
    def __init__(self, done):
        self.done = done
        self.buf = bytearray()

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"hello from python")
        transport.write_eof()

    def data_received(self, data):
        self.buf += data

    def eof_received(self):
        print(json.dumps({"received": self.buf.decode(errors="replace")}), flush=True)
        return False

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(None)


class Client(asyncio.Protocol):
    def __init__(self, payload, done):
        self.payload = payload
        self.done = done
        self.buf = bytearray()
        self.events = []

    def connection_made(self, transport):
        transport.write(self.payload)
        transport.write_eof()

    def data_received(self, data):
        self.buf += data

    def eof_received(self):
        self.events.append("eof")
        return False

    def connection_lost(self, exc):
        self.events.append("lost" if exc is None else f"lost:{exc!r}")
        if not self.done.done():
            self.done.set_result(None)


async def serve(kind):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    factory = {"server-halfclose": HalfCloseServer, "server-eof-first": EofFirstServer}[kind]
    server = await loop.create_server(lambda: factory(done), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    try:
        await asyncio.wait_for(done, 15)
    finally:
        server.close()
        await server.wait_closed()


async def client(port, nbytes):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    payload = pattern(nbytes)
    transport, proto = await loop.create_connection(lambda: Client(payload, done), "127.0.0.1", port)
    await asyncio.wait_for(done, 15)
    print(json.dumps({"reply": proto.buf.decode(errors="replace"), "events": proto.events,
                      "sent_sha": hashlib.sha256(payload).hexdigest()}), flush=True)


def main():
    kind = sys.argv[1]
    if kind == "client":
        asyncio.run(client(int(sys.argv[2]), int(sys.argv[3])))
    else:
        asyncio.run(serve(kind))


if __name__ == "__main__":
    main()
