"""Python TLS peers for @aioloop/net's TLS interop tests (stdlib ssl and asyncio only).

Every server listens on 127.0.0.1:0 and prints "PORT <n>" first. Milestones are
printed one a line and flushed; the test waits for them.

  tls_peer.py ssl-server <cert> <key> <mode>
      Blocking ssl server for one connection. After the handshake it reads one line
      and answers "pong:<line>". Then by <mode>:
        wait-close: read on (suppress_ragged_eofs=False): print CLOSE_NOTIFY when the
                    peer's close_notify arrives (RAGGED_EOF for a bare TCP close),
                    then unwrap() (our close_notify back) and print UNWRAPPED.
        close-first: unwrap() at once (send close_notify, wait for the peer's) and
                    print UNWRAPPED.
  tls_peer.py asyncio-client <port> <cafile> <server_hostname>
      asyncio client: open_connection(ssl=verifying context), send "ping\\n", print
      "REPLY <line>", close (close_notify) and print CLOSED; or print
      "ERROR <type> <message>" if the connection fails.
  tls_peer.py starttls-client <port> <cafile>
      asyncio client: plain connection, write "STARTTLS\\n" and call start_tls at once
      (the ClientHello follows the greeting without waiting for an answer), then send
      "secret\\n", print "REPLY <line>", close, print CLOSED.
  tls_peer.py starttls-glued <port> <cafile>
      Like starttls-client, but "STARTTLS\n" and the ClientHello (made with ssl.MemoryBIO)
      go out in one send(), so they reach the server in one read.
  tls_peer.py starttls-server <cert> <key>
      asyncio server: sends "220 ready\\n", reads "STARTTLS\\n", answers "GO\\n",
      upgrades with loop.start_tls(server_side=True), reads one line and answers
      "tls:<line>", prints "GOT <line>", then waits for the peer's close and prints CLOSED.
"""
import asyncio
import socket
import ssl
import sys


def say(*parts):
    print(*parts, flush=True)


def ssl_server(cert, key, mode):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    say('PORT', listener.getsockname()[1])
    conn, _ = listener.accept()
    conn.settimeout(20)
    tls = ctx.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False)
    say('HANDSHAKE', tls.version())
    line = b''
    while not line.endswith(b'\n'):
        chunk = tls.recv(1024)
        if not chunk:
            break
        line += chunk
    tls.sendall(b'pong:' + line)
    if mode == 'wait-close':
        try:
            while tls.recv(1024):
                pass
            say('CLOSE_NOTIFY')
        except ssl.SSLEOFError:
            say('RAGGED_EOF')
            return
        tls.unwrap()
        say('UNWRAPPED')
    elif mode == 'close-first':
        tls.unwrap()
        say('UNWRAPPED')
    conn.close()


async def asyncio_client(port, cafile, hostname):
    ctx = ssl.create_default_context(cafile=cafile)
    try:
        reader, writer = await asyncio.open_connection('127.0.0.1', port, ssl=ctx, server_hostname=hostname)
    except Exception as exc:
        say('ERROR', type(exc).__name__, exc)
        return
    writer.write(b'ping\n')
    say('REPLY', (await reader.readline()).decode().strip())
    writer.close()
    await writer.wait_closed()
    say('CLOSED')


async def starttls_client(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(b'STARTTLS\n')
    await writer.start_tls(ctx, server_hostname='localhost')
    say('UPGRADED')
    writer.write(b'secret\n')
    say('REPLY', (await reader.readline()).decode().strip())
    writer.close()
    await writer.wait_closed()
    say('CLOSED')


def starttls_glued(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    sock = socket.create_connection(('127.0.0.1', port))
    sock.settimeout(20)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname='localhost')

    def pump(step):
        while True:
            try:
                return step()
            except ssl.SSLWantReadError:
                pending = outgoing.read()
                if pending:
                    sock.sendall(pending)
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                incoming.write(chunk)

    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    sock.sendall(b'STARTTLS\n' + outgoing.read())
    pump(tls.do_handshake)
    sock.sendall(outgoing.read())
    say('UPGRADED')
    tls.write(b'secret\n')
    sock.sendall(outgoing.read())
    line = b''
    while not line.endswith(b'\n'):
        chunk = pump(lambda: tls.read(1024))
        if not chunk:
            break
        line += chunk
    say('REPLY', line.decode().strip())
    try:
        tls.unwrap()
    except ssl.SSLWantReadError:
        pass
    sock.sendall(outgoing.read())
    pump(tls.unwrap)
    sock.close()
    say('CLOSED')


async def starttls_server(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    done = asyncio.get_running_loop().create_future()

    async def handle(reader, writer):
        writer.write(b'220 ready\n')
        line = await reader.readline()
        if line != b'STARTTLS\n':
            say('UNEXPECTED', line)
        writer.write(b'GO\n')
        await writer.start_tls(ctx)
        line = (await reader.readline()).decode().strip()
        say('GOT', line)
        writer.write(b'tls:' + line.encode() + b'\n')
        await writer.drain()
        await reader.read()
        writer.close()
        say('CLOSED')
        done.set_result(None)

    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    say('PORT', server.sockets[0].getsockname()[1])
    await asyncio.wait_for(done, 30)
    server.close()


def main():
    mode = sys.argv[1]
    if mode == 'ssl-server':
        ssl_server(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode == 'asyncio-client':
        asyncio.run(asyncio_client(int(sys.argv[2]), sys.argv[3], sys.argv[4]))
    elif mode == 'starttls-client':
        asyncio.run(starttls_client(int(sys.argv[2]), sys.argv[3]))
    elif mode == 'starttls-glued':
        starttls_glued(int(sys.argv[2]), sys.argv[3])
    elif mode == 'starttls-server':
        asyncio.run(starttls_server(sys.argv[2], sys.argv[3]))
    else:
        raise SystemExit(f'unknown mode {mode}')


main()
