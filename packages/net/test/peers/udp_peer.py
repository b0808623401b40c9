"""A Python asyncio UDP peer for @aioloop/net's datagram tests (stdlib only).

Usage:
  udp_peer.py echo <host>     Bind <host>:0 with loop.create_datagram_endpoint, print
                              "<port> <SO_RCVBUF>", echo every datagram to its sender. The datagram b"quit"
                              ends it: it prints {"received": n, "bytes": b} and exits.
  udp_peer.py unix-echo <path>
                              The same on an AF_UNIX datagram socket bound to <path>
                              (prints "ready" instead of a port).
"""
import asyncio
import json
import socket
import sys


class Echo(asyncio.DatagramProtocol):
    def __init__(self, done):
        self.done = done
        self.received = 0
        self.bytes = 0

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)

    def datagram_received(self, data, addr):
        if data == b"quit":
            if not self.done.done():
                self.done.set_result(None)
            return
        self.received += 1
        self.bytes += len(data)
        self.transport.sendto(data, addr)

    def error_received(self, exc):
        print(f"error_received: {exc!r}", file=sys.stderr)


async def main(mode, where):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    if mode == "echo":
        transport, proto = await loop.create_datagram_endpoint(lambda: Echo(done), local_addr=(where, 0))
        sock = transport.get_extra_info("socket")
        rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        print(transport.get_extra_info("sockname")[1], rcvbuf, flush=True)
    elif mode == "unix-echo":
        transport, proto = await loop.create_datagram_endpoint(lambda: Echo(done), local_addr=where, family=socket.AF_UNIX)
        print("ready", flush=True)
    else:
        raise SystemExit(f"unknown mode {mode}")
    try:
        await asyncio.wait_for(done, 600)
    finally:
        transport.close()
    print(json.dumps({"received": proto.received, "bytes": proto.bytes}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
