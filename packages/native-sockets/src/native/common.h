// Shared helpers of the addon. Every socket call returns its result or a
// negative errno (as libuv does); JavaScript turns -errno into a Node-style
// system error only when it needs one, so EAGAIN on a hot path costs no
// exception.
#ifndef AIOLOOP_NATIVE_COMMON_H_
#define AIOLOOP_NATIVE_COMMON_H_

#include <napi.h>
#include <sys/socket.h>

namespace aioloop {

// Throws a TypeError naming the binding function; returns an empty value.
Napi::Value ThrowType(Napi::Env env, const char* fn, const char* what);

// Reads argument `i` as an int32 (fd, flags, levels); false after throwing.
bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* fn, int* out);

// The bytes of a Uint8Array/Buffer argument (its own offset and length).
bool ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* fn, uint8_t** data, size_t* length);

inline Napi::Value Errno(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

// sockaddr.cc: Python's address forms <-> struct sockaddr.
// ToSockaddr returns 0, a negative errno (EAFNOSUPPORT, ENAMETOOLONG...), or
// throws a TypeError for a malformed address and returns INT32_MIN.
constexpr int kThrown = -0x7fffffff;
int ToSockaddr(Napi::Env env, int family, Napi::Value addr, sockaddr_storage* ss, socklen_t* len);
Napi::Value FromSockaddr(Napi::Env env, const sockaddr* sa, socklen_t len);

void InitSocket(Napi::Env env, Napi::Object exports);
void InitPoll(Napi::Env env, Napi::Object exports);

}  // namespace aioloop

#endif
