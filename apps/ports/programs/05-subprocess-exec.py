# The asyncio docs' subprocess_exec program ("loop.subprocess_exec() and
# SubprocessProtocol", asyncio-protocol.rst), made deterministic: the child prints
# two fixed lines and exits with status 3 instead of printing the date.
import asyncio
import sys


class DateProtocol(asyncio.SubprocessProtocol):
    def __init__(self, exit_future):
        self.exit_future = exit_future
        self.output = bytearray()
        self.pipe_closed = False
        self.exited = False

    def connection_made(self, transport):
        print('connection made, pid known:', 'yes' if transport.get_pid() else 'no')

    def pipe_connection_lost(self, fd, exc):
        self.pipe_closed = True
        self.check_for_exit()

    def pipe_data_received(self, fd, data):
        self.output.extend(data)

    def process_exited(self):
        self.exited = True
        # process_exited() method can be called before
        # pipe_connection_lost() method: wait until both methods are
        # called.
        self.check_for_exit()

    def check_for_exit(self):
        if self.pipe_closed and self.exited:
            self.exit_future.set_result(True)

    def connection_lost(self, exc):
        print('connection lost after the exit and the pipe closed:',
              'yes' if self.exited and self.pipe_closed else 'no')


async def get_output():
    # Get a reference to the event loop as we plan to use
    # low-level APIs.
    loop = asyncio.get_running_loop()

    code = 'import sys; print("line 1"); print("line 2"); sys.exit(3)'
    exit_future = asyncio.Future(loop=loop)

    # Create the subprocess controlled by DateProtocol;
    # redirect the standard output into a pipe.
    transport, protocol = await loop.subprocess_exec(
        lambda: DateProtocol(exit_future),
        sys.executable, '-c', code,
        stdin=None, stderr=None)

    # Wait for the subprocess exit using the process_exited()
    # method of the protocol.
    await exit_future
    print('returncode:', transport.get_returncode())

    # Close the stdout pipe.
    transport.close()

    # Read the output which was collected by the
    # pipe_data_received() method of the protocol.
    data = bytes(protocol.output)
    return data.decode('ascii').rstrip()


output = asyncio.run(get_output())
print(f"Child output: {output.splitlines()}")
