# The asyncio docs' Runner program ("Runner context manager", asyncio-runner.rst),
# extended to show what a runner keeps between run() calls and what close()
# does: the same loop for every run(), a task left running continues in the next
# run(), and closing cancels the tasks still pending.
import asyncio

background_ticks = 0


async def background():
    global background_ticks
    try:
        while True:
            await asyncio.sleep(0.001)
            background_ticks += 1
    finally:
        print('background: cancelled at close:', 'yes' if asyncio.current_task().cancelling() else 'no')


async def main():
    await asyncio.sleep(0.01)
    print('hello')
    asyncio.get_running_loop().create_task(background())
    return 'first'


async def second():
    ticks_before = background_ticks
    await asyncio.sleep(0.01)
    print('background ran during the second run:', 'yes' if background_ticks > ticks_before else 'no')
    return 'second'


with asyncio.Runner(debug=True) as runner:
    loop = runner.get_loop()
    print('debug:', 'yes' if loop.get_debug() else 'no')
    print(runner.run(main()))
    print('same loop:', 'yes' if runner.get_loop() is loop else 'no')
    print(runner.run(second()))
    print('loop closed inside the with block:', 'yes' if loop.is_closed() else 'no')

print('loop closed after it:', 'yes' if loop.is_closed() else 'no')
coro = main()
try:
    runner.run(coro)
except RuntimeError as exc:
    print('RuntimeError:', exc)
    coro.close()
