"""A Python asyncio streams peer for @aioloop/net's streams tests (stdlib only).

Both sides speak one line protocol: a line is answered with the line upper-cased;
"blob <n>\\n" followed by n bytes is answered with "sha <sha256 of the bytes>\\n";
at EOF the server answers "bye <lines> <blobs>\\n" and closes.

Usage:
  streams_peer.py server        start_server on 127.0.0.1:0, print the port, serve one
                                client, then close the server and exit.
  streams_peer.py client <port> open_connection to 127.0.0.1:<port>, run the exchange
                                (3 lines, one blob of <nbytes>), write_eof, read to EOF,
                                print a JSON report.
"""
import asyncio
import hashlib
import json
import sys


def pattern(n):
    return bytes((i * 31 + 7) & 0xFF for i in range(n))


async def serve():
    done = asyncio.get_running_loop().create_future()

    async def handle(reader, writer):
        lines = blobs = 0
        while line := await reader.readline():
            if line.startswith(b"blob "):
                data = await reader.readexactly(int(line[5:]))
                writer.write(f"sha {hashlib.sha256(data).hexdigest()}\n".encode())
                blobs += 1
            else:
                writer.write(line.upper())
                lines += 1
            await writer.drain()
        writer.write(f"bye {lines} {blobs}\n".encode())
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        done.set_result(None)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await done
    server.close()
    await server.wait_closed()


async def client(port, nbytes):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies = []
    for i in range(3):
        writer.write(f"hello {i} from python\n".encode())
        await writer.drain()
        replies.append((await reader.readline()).decode())
    blob = pattern(nbytes)
    writer.write(f"blob {len(blob)}\n".encode() + blob)
    await writer.drain()
    sha = (await reader.readline()).decode().strip()
    writer.write_eof()
    rest = await reader.read()
    writer.close()
    await writer.wait_closed()
    print(json.dumps({"replies": replies, "sha": sha, "expected": "sha " + hashlib.sha256(blob).hexdigest(), "rest": rest.decode()}), flush=True)


if sys.argv[1] == "server":
    asyncio.run(serve())
else:
    asyncio.run(client(int(sys.argv[2]), int(sys.argv[3])))
