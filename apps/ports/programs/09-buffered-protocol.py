# asyncio.BufferedProtocol as the asyncio docs describe it ("Buffered Streaming
# Protocols", asyncio-protocol.rst): the client reads into its own small buffer
# through get_buffer() / buffer_updated(). An echo server (a plain Protocol)
# sends back 100 000 bytes; how they are split into reads varies from run to
# run, so only totals and invariants are printed.
import asyncio

SIZE = 100_000


class EchoServer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        print('server: eof received, closing')
        self.transport.close()


class Collect(asyncio.BufferedProtocol):
    def __init__(self, done):
        self.done = done
        self.buffer = bytearray(64)
        self.received = bytearray()
        self.sizehints = set()
        self.max_update = 0

    def connection_made(self, transport):
        print('client: connected')
        transport.write(bytes(i % 251 for i in range(SIZE)))
        transport.write_eof()

    def get_buffer(self, sizehint):
        self.sizehints.add(sizehint)
        return self.buffer

    def buffer_updated(self, nbytes):
        self.max_update = max(self.max_update, nbytes)
        self.received += self.buffer[:nbytes]

    def eof_received(self):
        print('client: eof received after', len(self.received), 'bytes')
        return False

    def connection_lost(self, exc):
        print('client: connection lost' + (': {}'.format(exc) if exc else ''))
        self.done.set_result(None)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(EchoServer, '127.0.0.1', 0)
    host, port = server.sockets[0].getsockname()
    done = loop.create_future()
    transport, protocol = await loop.create_connection(lambda: Collect(done), host, port)
    await done
    print('echo intact:', 'yes' if protocol.received == bytes(i % 251 for i in range(SIZE)) else 'no')
    print('size hints:', sorted(protocol.sizehints))
    print('reads fit the 64-byte buffer:', 'yes' if 0 < protocol.max_update <= 64 else 'no')
    print('transport closing:', 'yes' if transport.is_closing() else 'no')
    server.close()
    await server.wait_closed()
    print('server closed')


asyncio.run(main())
