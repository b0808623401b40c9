# The asyncio docs' TaskGroup, wait and shield programs (asyncio-task.rst: "Task
# Groups", "Waiting Primitives", "Shielding From Cancellation"), with delays of
# 10 ms instead of seconds.
import asyncio


async def some_coro(value, delay=0.01):
    await asyncio.sleep(delay)
    return value


async def fails(message):
    await asyncio.sleep(0.01)
    raise ValueError(message)


async def slow(name):
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        print(name, 'cancelled')
        raise


async def gated(gate, value):
    # Finishes when main() opens the gate: no race between timers decides
    # what is printed first.
    await gate
    return value


async def something(gate):
    await gate
    print('something(): finished despite the cancellation')
    return 'shielded result'


async def main():
    async with asyncio.TaskGroup() as tg:
        task1 = tg.create_task(some_coro('one'))
        task2 = tg.create_task(some_coro('two', 0.005))
    print(f"Both tasks have completed now: {task1.result()}, {task2.result()}")

    # A failing task cancels the others and the group raises an ExceptionGroup.
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(slow('slow task'))
            tg.create_task(fails('bad input'))
    except* ValueError as eg:
        print('ExceptionGroup:', eg.message + ';', [str(e) for e in eg.exceptions])

    # wait(): the first to complete, the rest keep running.
    gate = asyncio.get_running_loop().create_future()
    fast = asyncio.create_task(some_coro('fast', 0.005))
    late = asyncio.create_task(gated(gate, 'late'))
    done, pending = await asyncio.wait({fast, late}, return_when=asyncio.FIRST_COMPLETED)
    print('done:', [t.result() for t in done], 'pending:', len(pending))
    done, pending = await asyncio.wait(pending, timeout=0.001)
    print('after a short timeout: done', len(done), 'pending', len(pending))
    gate.set_result(None)
    done, pending = await asyncio.wait(pending)
    print('all done:', [t.result() for t in done])

    # FIRST_EXCEPTION
    bad = asyncio.create_task(fails('first error'))
    waiting = asyncio.create_task(slow('waiting task'))
    done, pending = await asyncio.wait([bad, waiting], return_when=asyncio.FIRST_EXCEPTION)
    print('first exception:', [str(t.exception()) for t in done], 'pending:', len(pending))
    waiting.cancel()
    await asyncio.wait([waiting])

    # shield(): cancelling the outer await leaves the inner task running.
    gate = asyncio.get_running_loop().create_future()
    inner = asyncio.create_task(something(gate))
    outer = asyncio.create_task(shielded(inner))
    await asyncio.sleep(0.005)
    outer.cancel()
    try:
        await outer
    except asyncio.CancelledError:
        print('outer cancelled; inner cancelled:', 'yes' if inner.cancelled() else 'no')
    gate.set_result(None)
    print('inner result:', await inner)


async def shielded(inner):
    return await asyncio.shield(inner)


asyncio.run(main())
