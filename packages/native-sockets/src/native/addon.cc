// @aioloop/native-sockets: BSD socket calls (socket.cc) and libuv poll
// watchers on file descriptors (poll.cc) for @aioloop/net.
#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  aioloop::InitSocket(env, exports);
  aioloop::InitPoll(env, exports);
  return exports;
}

NODE_API_MODULE(aioloop_native_sockets, Init)
