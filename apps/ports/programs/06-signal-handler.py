# The asyncio docs' add_signal_handler program ("Set signal handlers for SIGINT and
# SIGTERM", asyncio-eventloop.rst), made deterministic: the program sends SIGTERM
# to itself instead of waiting an hour for Ctrl+C, and prints no pid. As in the
# docs, the handler stops the loop under asyncio.run(), which then raises; the
# second part waits for a signal with a future and removes the handler.
import asyncio
import functools
import os
import signal


def ask_exit(signame, loop):
    print("got signal %s: exit" % signame)
    loop.stop()


async def main():
    loop = asyncio.get_running_loop()

    for signame in {'SIGINT', 'SIGTERM'}:
        loop.add_signal_handler(
            getattr(signal, signame),
            functools.partial(ask_exit, signame, loop))

    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(3600)


print("Event loop running for 1 hour, press Ctrl+C to interrupt.")
print("pid <pid>: send SIGINT or SIGTERM to exit.")

try:
    asyncio.run(main())
except RuntimeError as exc:
    print('run() raised RuntimeError:', exc)


async def wait_for_signal():
    loop = asyncio.get_running_loop()
    got = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, got.set_result, 'SIGUSR1')
    os.kill(os.getpid(), signal.SIGUSR1)
    print('got', await got)
    print('removed:', 'yes' if loop.remove_signal_handler(signal.SIGUSR1) else 'no')
    print('removed again:', 'yes' if loop.remove_signal_handler(signal.SIGUSR1) else 'no')


asyncio.run(wait_for_signal())
