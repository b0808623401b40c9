// Python's socket address forms <-> struct sockaddr:
//   AF_INET  [host, port]            AF_INET6 [host, port, flowinfo, scopeId]
//   AF_UNIX  a path string; '\0name' is a Linux abstract name of exactly that length.
// A host that is not a numeric address is resolved here, blocking, as
// Python's socket methods do; the loop's sock* methods resolve first.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>
#include <stddef.h>
#include <errno.h>
#include <string>

#include "common.h"

namespace aioloop {

namespace {

// getaddrinfo failures travel as -(kGaiBase - eai) so JavaScript can tell them from errno.
constexpr int kGaiBase = 100000;

bool ReadPort(Napi::Env env, Napi::Value v, int* port) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 65535) || d != static_cast<int>(d)) return false;
  *port = static_cast<int>(d);
  return true;
}

int Resolve(const std::string& host, int family, int flags, sockaddr_storage* out) {
  addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_flags = flags;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) return -errno;
    return -(kGaiBase - rc);
  }
  memcpy(out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return 0;
}

}  // namespace

int ToSockaddr(Napi::Env env, int family, Napi::Value addr, sockaddr_storage* ss, socklen_t* len) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_UNIX) {
    std::string path;
    if (addr.IsString()) {
      path = addr.As<Napi::String>().Utf8Value();
    } else if (addr.IsBuffer()) {
      Napi::Buffer<char> b = addr.As<Napi::Buffer<char>>();
      path.assign(b.Data(), b.Length());
    } else {
      ThrowType(env, "address", "an AF_UNIX address is a path string");
      return kThrown;
    }
    sockaddr_un* un = reinterpret_cast<sockaddr_un*>(ss);
    if (path.size() >= sizeof un->sun_path) return -ENAMETOOLONG;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path.data(), path.size());
    *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    return 0;
  }
  if (family != AF_INET && family != AF_INET6) return -EAFNOSUPPORT;
  if (!addr.IsArray()) {
    ThrowType(env, "address", family == AF_INET ? "an AF_INET address is [host, port]" : "an AF_INET6 address is [host, port, flowinfo?, scopeId?]");
    return kThrown;
  }
  Napi::Array a = addr.As<Napi::Array>();
  uint32_t n = a.Length();
  int port = 0;
  if (n < 2 || !a.Get(0u).IsString() || !ReadPort(env, a.Get(1u), &port) || (family == AF_INET && n != 2) || n > 4) {
    ThrowType(env, "address", family == AF_INET ? "an AF_INET address is [host: string, port: 0-65535]" : "an AF_INET6 address is [host: string, port: 0-65535, flowinfo?, scopeId?]");
    return kThrown;
  }
  std::string host = a.Get(0u).As<Napi::String>().Utf8Value();
  if (family == AF_INET) {
    sockaddr_in* in = reinterpret_cast<sockaddr_in*>(ss);
    if (host.empty()) {
      in->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (host == "<broadcast>") {
      in->sin_addr.s_addr = htonl(INADDR_BROADCAST);
    } else if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1) {
      int rc = Resolve(host, AF_INET, 0, ss);
      if (rc != 0) return rc;
    }
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
    return 0;
  }
  sockaddr_in6* in6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (!host.empty()) {
    int rc = Resolve(host, AF_INET6, AI_NUMERICHOST, ss);
    if (rc == -(kGaiBase - EAI_NONAME)) rc = Resolve(host, AF_INET6, 0, ss);
    if (rc != 0) return rc;
  }
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(static_cast<uint16_t>(port));
  if (n > 2) in6->sin6_flowinfo = htonl(a.Get(2u).As<Napi::Number>().Uint32Value());
  if (n > 3) in6->sin6_scope_id = a.Get(3u).As<Napi::Number>().Uint32Value();
  *len = sizeof(sockaddr_in6);
  return 0;
}

namespace {

// An IP address tuple of `size` slots with the host (text form) and port filled in.
Napi::Array HostPortTuple(Napi::Env env, int family, const void* addr, uint16_t net_port, uint32_t size) {
  char host[INET6_ADDRSTRLEN];
  inet_ntop(family, addr, host, sizeof host);
  Napi::Array out = Napi::Array::New(env, size);
  out.Set(0u, Napi::String::New(env, host));
  out.Set(1u, Napi::Number::New(env, ntohs(net_port)));
  return out;
}

}  // namespace

Napi::Value FromSockaddr(Napi::Env env, const sockaddr* sa, socklen_t len) {
  if (len < static_cast<socklen_t>(sizeof(sa_family_t))) return env.Null();
  switch (sa->sa_family) {
    case AF_INET: {
      const sockaddr_in* in = reinterpret_cast<const sockaddr_in*>(sa);
      return HostPortTuple(env, AF_INET, &in->sin_addr, in->sin_port, 2);
    }
    case AF_INET6: {
      const sockaddr_in6* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
      Napi::Array out = HostPortTuple(env, AF_INET6, &in6->sin6_addr, in6->sin6_port, 4);
      out.Set(2u, Napi::Number::New(env, ntohl(in6->sin6_flowinfo)));
      out.Set(3u, Napi::Number::New(env, in6->sin6_scope_id));
      return out;
    }
    case AF_UNIX: {
      const sockaddr_un* un = reinterpret_cast<const sockaddr_un*>(sa);
      size_t n = len - offsetof(sockaddr_un, sun_path);
      if (n > sizeof un->sun_path) n = sizeof un->sun_path;
      if (n > 0 && un->sun_path[0] != '\0') n = strnlen(un->sun_path, n);
      return Napi::String::New(env, un->sun_path, n);
    }
    default:
      return Napi::Number::New(env, sa->sa_family);
  }
}

}  // namespace aioloop
