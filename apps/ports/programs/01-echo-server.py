# The TCP echo server of the asyncio docs ("TCP Echo Server", asyncio-protocol.rst),
# made deterministic: it listens on port 0 and prints the port it got (the test
# starts the client with it), and it serves one client, then closes, instead of
# serve_forever().
import asyncio


class EchoServerProtocol(asyncio.Protocol):
    def __init__(self, on_con_lost):
        self.on_con_lost = on_con_lost

    def connection_made(self, transport):
        host, port = transport.get_extra_info('peername')
        print('Connection from {} port={}'.format(host, port))
        self.transport = transport

    def data_received(self, data):
        message = data.decode()
        print('Data received: {!r}'.format(message))

        print('Send: {!r}'.format(message))
        self.transport.write(data)

        print('Close the client socket')
        self.transport.close()

    def connection_lost(self, exc):
        print('Connection lost' + (': {}'.format(exc) if exc else ''))
        self.on_con_lost.set_result(True)


async def main():
    # Get a reference to the event loop as we plan to use
    # low-level APIs.
    loop = asyncio.get_running_loop()
    served = loop.create_future()

    server = await loop.create_server(
        lambda: EchoServerProtocol(served),
        '127.0.0.1', 0)
    host, port = server.sockets[0].getsockname()
    print('Serving on {} port={}'.format(host, port), flush=True)

    async with server:
        await served
    print('Server closed, serving:', 'yes' if server.is_serving() else 'no')


asyncio.run(main())
