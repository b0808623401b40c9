/**
 * Tells a peer's reset from its EOF for core's stream transports.
 *
 * Node reports a reset (RST) that arrives behind bytes not read yet as a clean
 * end of stream; the reset stays pending on the socket. With
 * @aioloop/native-sockets loaded, the socket's SO_ERROR is read at that EOF, so
 * the protocol gets `connectionLost(ECONNRESET)` after the bytes, as asyncio's
 * does. Without it, the EOF stands (docs/mapping.md).
 */
import { setSocketErrorProbe } from '@aioloop/core/internal';
import { nativeBinding, nativeSocketsAvailable } from './binding.js';
import { systemError } from './errors.js';

setSocketErrorProbe((fd) => {
  if (!nativeSocketsAvailable()) return null;
  const native = nativeBinding('reading a socket error');
  const result = native.getsockopt(fd, native.constants.SOL_SOCKET, native.constants.SO_ERROR, 0);
  const error = Array.isArray(result) ? result[0] : 0; // a failed getsockopt: no pending error known
  return error > 0 ? systemError(-error, 'read') : null;
});
