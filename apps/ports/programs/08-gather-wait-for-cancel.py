# The asyncio docs' gather, wait_for and cancellation programs (asyncio-task.rst:
# "Running Tasks Concurrently", "Timeouts", "Task Cancellation"), with delays of
# 10 ms instead of seconds.
import asyncio


async def factorial(name, number):
    f = 1
    for i in range(2, number + 1):
        print(f"Task {name}: Compute factorial({number}), currently i={i}...")
        await asyncio.sleep(0.01)
        f *= i
    print(f"Task {name}: factorial({number}) = {f}")
    return f


async def eternity():
    # Sleep for one hour
    await asyncio.sleep(3600)
    print('yay!')


async def cancel_me():
    print('cancel_me(): before sleep')

    try:
        # Wait for 1 hour
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        print('cancel_me(): cancel sleep')
        raise
    finally:
        print('cancel_me(): after sleep')


async def fail(message):
    await asyncio.sleep(0.01)
    raise ValueError(message)


async def main():
    # Schedule three calls *concurrently*:
    L = await asyncio.gather(
        factorial("A", 2),
        factorial("B", 3),
        factorial("C", 4),
    )
    print(L)

    # Wait for at most 10 ms
    try:
        await asyncio.wait_for(eternity(), timeout=0.01)
    except TimeoutError:
        print('timeout!')

    # Create a "cancel_me" Task
    task = asyncio.create_task(cancel_me())

    # Wait for 10 ms
    await asyncio.sleep(0.01)

    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("main(): cancel_me is cancelled now")
    print('task cancelled:', 'yes' if task.cancelled() else 'no')

    # gather() with return_exceptions=True: failures are results.
    results = await asyncio.gather(factorial("D", 2), fail('boom'), return_exceptions=True)
    print('results:', results[0], type(results[1]).__name__, results[1])

    # Without it, the first failure propagates; the others keep running.
    others = asyncio.create_task(factorial("E", 3))
    try:
        await asyncio.gather(fail('first'), others)
    except ValueError as exc:
        print('gather raised:', exc)
    print('E still running:', 'yes' if not others.done() else 'no')
    print('E =', await others)

    # Cancelling a gather() cancels its children.
    child = asyncio.create_task(eternity())
    outer = asyncio.gather(child)
    await asyncio.sleep(0)
    outer.cancel()
    try:
        await outer
    except asyncio.CancelledError:
        print('gather cancelled; child cancelled:', 'yes' if child.cancelled() else 'no')


asyncio.run(main())
