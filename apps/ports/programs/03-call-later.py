# The asyncio docs' call_soon / call_later / call_at programs ("Hello World with
# call_soon()", "Display the current date with call_later()", asyncio-eventloop.rst),
# made deterministic: the date is replaced by the tick number, the ticks are
# counted instead of timed, and elapsed times are printed as comparisons with the
# delay, never as values.
import asyncio


def hello_world(loop):
    """A callback to print 'Hello World' and stop the event loop"""
    print('Hello World')
    loop.stop()


def display_tick(n, last, loop, start):
    # 1 ms of slack: a loop may run a timer a clock resolution early.
    late_enough = loop.time() - start >= n * 0.01 - 0.001
    print('tick', n, 'of', last, '- at least', n * 10, 'ms after the first:', 'yes' if late_enough else 'no')
    if n < last:
        loop.call_later(0.01, display_tick, n + 1, last, loop, start)
    else:
        loop.stop()


loop = asyncio.new_event_loop()

# Schedule a call to hello_world()
loop.call_soon(hello_world, loop)

# Blocking call interrupted by loop.stop()
try:
    loop.run_forever()
finally:
    loop.close()

loop = asyncio.new_event_loop()

# Schedule the first call to display_tick(); five ticks 10 ms apart
# (the docs' program: the date once a second for five seconds).
loop.call_soon(display_tick, 0, 4, loop, loop.time())

# Blocking call interrupted by loop.stop()
try:
    loop.run_forever()
finally:
    loop.close()


# The order in which callbacks run: call_soon in FIFO order, timers by deadline
# (call_later and call_at are the same clock), a cancelled handle never runs.
def log(what):
    print('callback', what)


async def main():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    now = loop.time()
    loop.call_later(0.03, log, 'call_later(0.03)')
    loop.call_at(now + 0.02, log, 'call_at(now + 0.02)')
    cancelled = loop.call_later(0.01, log, 'cancelled call_later(0.01)')
    loop.call_later(0.04, done.set_result, None)
    loop.call_soon(log, 'call_soon 1')
    loop.call_soon(log, 'call_soon 2')
    cancelled.cancel()
    print('cancelled:', 'yes' if cancelled.cancelled() else 'no')
    print('when() is the deadline:', 'yes' if cancelled.when() >= now + 0.01 else 'no')
    await done
    print('done')


asyncio.run(main())
