"""Python asyncio peer for the sock*/Socket tests. Prints one line when ready, then works.

  echo-server                 asyncio.start_server echo on 127.0.0.1; prints the port
  sock-client PORT SIZE       loop.sock_connect/sock_sendall/sock_recv: sends SIZE bytes, reads them back, prints sha256
  stream-client PORT SIZE     asyncio.open_connection: sends SIZE bytes, half-closes, prints sha256 of the reply
  abstract-server NAME        an asyncio unix server on the abstract name '\\0NAME': replies 'py:' + data
  abstract-client NAME        connects to '\\0NAME', sends 'ping', prints the reply
"""
import asyncio
import hashlib
import socket
import sys


def pattern(n):
    return bytes((i * 31 + 7) & 0xFF for i in range(n))


async def echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def main():
    mode = sys.argv[1]
    if mode == 'echo-server':
        server = await asyncio.start_server(echo, '127.0.0.1', 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(30)
    elif mode == 'sock-client':
        loop = asyncio.get_running_loop()
        port, size = int(sys.argv[2]), int(sys.argv[3])
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, ('127.0.0.1', port))
        print('connected', flush=True)
        data = pattern(size)
        send = loop.create_task(loop.sock_sendall(sock, data))
        got = bytearray()
        while len(got) < size:
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                break
            got += chunk
        await send
        sock.close()
        print(hashlib.sha256(got).hexdigest(), flush=True)
    elif mode == 'stream-client':
        port, size = int(sys.argv[2]), int(sys.argv[3])
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        print('connected', flush=True)
        writer.write(pattern(size))
        await writer.drain()
        writer.write_eof()
        got = await reader.read()
        writer.close()
        print(hashlib.sha256(got).hexdigest(), flush=True)
    elif mode == 'abstract-server':
        done = asyncio.Event()

        async def reply(reader, writer):
            data = await reader.read(100)
            writer.write(b'py:' + data)
            await writer.drain()
            writer.close()
            done.set()

        server = await asyncio.start_unix_server(reply, '\0' + sys.argv[2])
        print('ready', flush=True)
        await asyncio.wait_for(done.wait(), 20)
        server.close()
    elif mode == 'abstract-client':
        reader, writer = await asyncio.open_unix_connection('\0' + sys.argv[2])
        writer.write(b'ping')
        await writer.drain()
        reply = await reader.read(100)
        writer.close()
        print(reply.decode(), flush=True)


asyncio.run(main())
