# The asyncio docs' future programs ("set_after", asyncio-future.rst and
# loop.create_future()), plus futures completed from plain callbacks
# (call_soon(fut.set_result, ...), add_done_callback) and their error messages.
# Delays are 10 ms instead of 1 s.
import asyncio


async def set_after(fut, delay, value):
    # Sleep for *delay* seconds.
    await asyncio.sleep(delay)

    # Set *value* as a result of *fut* Future.
    fut.set_result(value)


def on_done(name, fut):
    state = 'cancelled' if fut.cancelled() else 'result {!r}'.format(fut.result())
    print('done callback', name + ':', state)


async def main():
    # Get the current event loop.
    loop = asyncio.get_running_loop()

    # Create a new Future object.
    fut = loop.create_future()

    # Run "set_after()" coroutine in a parallel Task.
    # We are using the low-level "loop.create_task()" API here because
    # we already have a reference to the event loop at hand.
    # Otherwise we could have just used "asyncio.create_task()".
    loop.create_task(
        set_after(fut, 0.01, '... world'))

    print('hello ...')

    # Wait until *fut* has a result and print it.
    print(await fut)

    # A future completed by a callback the loop calls soon.
    fut = loop.create_future()
    fut.add_done_callback(lambda f: on_done('first', f))
    fut.add_done_callback(lambda f: on_done('second', f))
    print('pending:', 'yes' if not fut.done() else 'no')
    try:
        fut.result()
    except asyncio.InvalidStateError as exc:
        print('InvalidStateError:', exc)
    loop.call_soon(fut.set_result, 42)
    print('awaited', await fut)
    try:
        fut.set_result(43)
    except asyncio.InvalidStateError as exc:
        # CPython says 'invalid state'; aioloop adds ': finished future cannot
        # take a result'. The part both have is compared.
        print('InvalidStateError:', str(exc).split(':')[0])
    await asyncio.sleep(0)

    # A future that fails, from a timer.
    fut = loop.create_future()
    loop.call_later(0.01, fut.set_exception, KeyError('missing'))
    try:
        await fut
    except KeyError as exc:
        print('awaiting raised KeyError:', exc.args[0])
    print('exception() is it:', 'yes' if isinstance(fut.exception(), KeyError) else 'no')

    # A cancelled future.
    fut = loop.create_future()
    fut.add_done_callback(lambda f: on_done('third', f))
    print('cancel:', 'yes' if fut.cancel() else 'no')
    print('cancel again:', 'yes' if fut.cancel() else 'no')
    try:
        await fut
    except asyncio.CancelledError:
        print('awaiting raised CancelledError')
    try:
        fut.exception()
    except asyncio.CancelledError:
        print('exception() raised CancelledError')

    # Removing a done callback.
    fut = loop.create_future()
    fut.add_done_callback(print)
    fut.add_done_callback(print)
    print('removed', fut.remove_done_callback(print), 'callbacks')
    fut.set_result(None)
    await asyncio.sleep(0)
    print('end')


asyncio.run(main())
