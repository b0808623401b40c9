/**
 * Waits for `awaitable`; if it fails (or the waiting task is cancelled),
 * closes `resource` and rethrows. The tail of every method that opens
 * something and then waits on it — a transport for its protocol's
 * `connectionMade` (asyncio's `_create_connection_transport`), a socket for
 * its connect, a new server for its first iteration — so nothing opened is
 * left behind by a failed or cancelled call.
 */
export async function awaitOrClose<T>(awaitable: PromiseLike<T>, resource: { close(): void }): Promise<T> {
  try {
    return await awaitable;
  } catch (error) {
    resource.close();
    throw error;
  }
}
