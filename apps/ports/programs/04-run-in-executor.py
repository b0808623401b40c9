# The asyncio docs' run_in_executor program ("Executing code in thread or process
# pools", asyncio-eventloop.rst), made deterministic: it prints how many random
# bytes were read instead of the bytes, and sums fewer squares.
import asyncio
import concurrent.futures


def blocking_io():
    # File operations (such as logging) can block the
    # event loop: run them in a thread pool.
    with open('/dev/urandom', 'rb') as f:
        return f.read(100)


def cpu_bound():
    # CPU-bound operations will block the event loop:
    # in general it is preferable to run them in a
    # process pool.
    return sum(i * i for i in range(10 ** 5))


def fails(n):
    raise ValueError('bad value: {}'.format(n))


async def main():
    loop = asyncio.get_running_loop()

    ## Options:

    # 1. Run in the default loop's executor:
    result = await loop.run_in_executor(
        None, blocking_io)
    print('default thread pool', len(result))

    # 2. Run in a custom thread pool:
    with concurrent.futures.ThreadPoolExecutor() as pool:
        result = await loop.run_in_executor(
            pool, blocking_io)
        print('custom thread pool', len(result))

    # 3. Run in a custom process pool:
    with concurrent.futures.ProcessPoolExecutor() as pool:
        result = await loop.run_in_executor(
            pool, cpu_bound)
        print('custom process pool', result)

    # An exception raised in the worker reaches the awaiting task.
    try:
        await loop.run_in_executor(None, fails, 7)
    except ValueError as exc:
        print('worker raised:', exc)


if __name__ == '__main__':
    asyncio.run(main())
