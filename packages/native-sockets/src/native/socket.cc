// The BSD socket calls, one binding function each. Arguments are checked by
// @aioloop/net before they get here; these functions return a result or a
// negative errno and never raise for a failed system call.
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

namespace aioloop {

namespace {

int SetNonblocking(int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1) return -errno;
  int next = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (next != flags && fcntl(fd, F_SETFL, next) == -1) return -errno;
  return 0;
}

// Retries a call interrupted by a signal, as Python does (PEP 475).
#define RETRY_EINTR(expr) ({ long _r; do { _r = (expr); } while (_r == -1 && errno == EINTR); _r; })

Napi::Value Socket(const Napi::CallbackInfo& info) {
  int family, type, proto;
  if (!ArgInt(info, 0, "socket", &family) || !ArgInt(info, 1, "socket", &type) || !ArgInt(info, 2, "socket", &proto)) return info.Env().Undefined();
  int fd = socket(family, type | SOCK_CLOEXEC, proto);
  if (fd == -1) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  int family, type, proto;
  if (!ArgInt(info, 0, "socketpair", &family) || !ArgInt(info, 1, "socketpair", &type) || !ArgInt(info, 2, "socketpair", &proto)) return info.Env().Undefined();
  int fds[2];
  if (socketpair(family, type | SOCK_CLOEXEC, proto, fds) == -1) return Errno(info.Env(), errno);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  out.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return out;
}

Napi::Value SetBlocking(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgInt(info, 0, "setblocking", &fd)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), SetNonblocking(fd, !info[1].ToBoolean().Value()));
}

Napi::Value GetBlocking(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgInt(info, 0, "getblocking", &fd)) return info.Env().Undefined();
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), (flags & O_NONBLOCK) ? 0 : 1);
}

Napi::Value AddressCall(const Napi::CallbackInfo& info, const char* fn, bool is_connect) {
  Napi::Env env = info.Env();
  int fd, family;
  if (!ArgInt(info, 0, fn, &fd) || !ArgInt(info, 1, fn, &family)) return env.Undefined();
  sockaddr_storage ss;
  socklen_t len;
  int rc = ToSockaddr(env, family, info[2], &ss, &len);
  if (rc == kThrown) return env.Undefined();
  if (rc != 0) return Napi::Number::New(env, rc);
  // connect() is not retried on EINTR: the connection goes on in the background (PEP 475).
  int r = is_connect ? connect(fd, reinterpret_cast<sockaddr*>(&ss), len) : bind(fd, reinterpret_cast<sockaddr*>(&ss), len);
  return Napi::Number::New(env, r == -1 ? -errno : 0);
}

Napi::Value Bind(const Napi::CallbackInfo& info) { return AddressCall(info, "bind", false); }
Napi::Value Connect(const Napi::CallbackInfo& info) { return AddressCall(info, "connect", true); }

Napi::Value Listen(const Napi::CallbackInfo& info) {
  int fd, backlog;
  if (!ArgInt(info, 0, "listen", &fd) || !ArgInt(info, 1, "listen", &backlog)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), listen(fd, backlog) == -1 ? -errno : 0);
}

// accept(fd) -> [newFd, address] | -errno. The new socket is blocking, as in Python.
Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, "accept", &fd)) return env.Undefined();
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int conn = RETRY_EINTR(accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC));
  if (conn == -1) return Errno(env, errno);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, conn));
  out.Set(1u, FromSockaddr(env, reinterpret_cast<sockaddr*>(&ss), len));
  return out;
}

// recv(fd, bytes, flags) -> count | -errno; reads into the whole view.
Napi::Value Recv(const Napi::CallbackInfo& info) {
  int fd, flags;
  uint8_t* data;
  size_t length;
  if (!ArgInt(info, 0, "recv", &fd) || !ArgBytes(info, 1, "recv", &data, &length) || !ArgInt(info, 2, "recv", &flags)) return info.Env().Undefined();
  ssize_t n = RETRY_EINTR(recv(fd, data, length, flags));
  return Napi::Number::New(info.Env(), n == -1 ? -errno : static_cast<double>(n));
}

// recvfrom(fd, bytes, flags) -> [count, address] | -errno
Napi::Value Recvfrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, flags;
  uint8_t* data;
  size_t length;
  if (!ArgInt(info, 0, "recvfrom", &fd) || !ArgBytes(info, 1, "recvfrom", &data, &length) || !ArgInt(info, 2, "recvfrom", &flags)) return env.Undefined();
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  ssize_t n = RETRY_EINTR(recvfrom(fd, data, length, flags, reinterpret_cast<sockaddr*>(&ss), &len));
  if (n == -1) return Errno(env, errno);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(n)));
  out.Set(1u, FromSockaddr(env, reinterpret_cast<sockaddr*>(&ss), len));
  return out;
}

// send(fd, bytes, flags) -> count | -errno. MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE.
Napi::Value Send(const Napi::CallbackInfo& info) {
  int fd, flags;
  uint8_t* data;
  size_t length;
  if (!ArgInt(info, 0, "send", &fd) || !ArgBytes(info, 1, "send", &data, &length) || !ArgInt(info, 2, "send", &flags)) return info.Env().Undefined();
  ssize_t n = RETRY_EINTR(send(fd, data, length, flags | MSG_NOSIGNAL));
  return Napi::Number::New(info.Env(), n == -1 ? -errno : static_cast<double>(n));
}

// sendto(fd, bytes, flags, family, address) -> count | -errno
Napi::Value Sendto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, flags, family;
  uint8_t* data;
  size_t length;
  if (!ArgInt(info, 0, "sendto", &fd) || !ArgBytes(info, 1, "sendto", &data, &length) || !ArgInt(info, 2, "sendto", &flags) ||
      !ArgInt(info, 3, "sendto", &family))
    return env.Undefined();
  sockaddr_storage ss;
  socklen_t len;
  int rc = ToSockaddr(env, family, info[4], &ss, &len);
  if (rc == kThrown) return env.Undefined();
  if (rc != 0) return Napi::Number::New(env, rc);
  ssize_t n = RETRY_EINTR(sendto(fd, data, length, flags | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&ss), len));
  return Napi::Number::New(env, n == -1 ? -errno : static_cast<double>(n));
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int fd, how;
  if (!ArgInt(info, 0, "shutdown", &fd) || !ArgInt(info, 1, "shutdown", &how)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), shutdown(fd, how) == -1 ? -errno : 0);
}

Napi::Value NameCall(const Napi::CallbackInfo& info, const char* fn, bool peer) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, fn, &fd)) return env.Undefined();
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (r == -1) return Errno(env, errno);
  return FromSockaddr(env, reinterpret_cast<sockaddr*>(&ss), len);
}

Napi::Value Getsockname(const Napi::CallbackInfo& info) { return NameCall(info, "getsockname", false); }
Napi::Value Getpeername(const Napi::CallbackInfo& info) { return NameCall(info, "getpeername", true); }

// setsockopt(fd, level, name, value: int | Uint8Array) -> 0 | -errno
Napi::Value Setsockopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, level, name;
  if (!ArgInt(info, 0, "setsockopt", &fd) || !ArgInt(info, 1, "setsockopt", &level) || !ArgInt(info, 2, "setsockopt", &name)) return env.Undefined();
  int r;
  if (info[3].IsNumber()) {
    int value = info[3].As<Napi::Number>().Int32Value();
    r = setsockopt(fd, level, name, &value, sizeof value);
  } else {
    uint8_t* data;
    size_t length;
    if (!ArgBytes(info, 3, "setsockopt", &data, &length)) return env.Undefined();
    r = setsockopt(fd, level, name, data, static_cast<socklen_t>(length));
  }
  return Napi::Number::New(env, r == -1 ? -errno : 0);
}

// getsockopt(fd, level, name, buflen) -> [int] (buflen 0) | Buffer | -errno
Napi::Value Getsockopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, level, name, buflen;
  if (!ArgInt(info, 0, "getsockopt", &fd) || !ArgInt(info, 1, "getsockopt", &level) || !ArgInt(info, 2, "getsockopt", &name) ||
      !ArgInt(info, 3, "getsockopt", &buflen))
    return env.Undefined();
  if (buflen <= 0) {
    int value = 0;
    socklen_t len = sizeof value;
    if (getsockopt(fd, level, name, &value, &len) == -1) return Errno(env, errno);
    // Boxed: a negative option value must not read as an error.
    Napi::Array boxed = Napi::Array::New(env, 1);
    boxed.Set(0u, Napi::Number::New(env, value));
    return boxed;
  }
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, buflen);
  socklen_t len = buflen;
  if (getsockopt(fd, level, name, buf.Data(), &len) == -1) return Errno(env, errno);
  return Napi::Buffer<uint8_t>::Copy(env, buf.Data(), len);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgInt(info, 0, "close", &fd)) return info.Env().Undefined();
  // Linux releases the fd even when close() reports EINTR: never retry it.
  return Napi::Number::New(info.Env(), close(fd) == -1 && errno != EINTR ? -errno : 0);
}

// dup(fd) -> a new close-on-exec fd | -errno
Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgInt(info, 0, "dup", &fd)) return info.Env().Undefined();
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return Napi::Number::New(info.Env(), r == -1 ? -errno : r);
}

// sockinfo(fd) -> [family, type, proto] | -errno (ENOTSOCK for a non-socket)
Napi::Value Sockinfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, "sockinfo", &fd)) return env.Undefined();
  int values[3];
  const int names[3] = {SO_DOMAIN, SO_TYPE, SO_PROTOCOL};
  for (int i = 0; i < 3; i++) {
    socklen_t len = sizeof values[i];
    if (getsockopt(fd, SOL_SOCKET, names[i], &values[i], &len) == -1) return Errno(env, errno);
  }
  Napi::Array out = Napi::Array::New(env, 3);
  for (uint32_t i = 0; i < 3; i++) out.Set(i, Napi::Number::New(env, values[i]));
  return out;
}

// fdstat(fd) -> [dev, ino, S_IFMT bits] | -errno: tells a live fd, and whether
// two fds refer to the same file.
Napi::Value Fdstat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, "fdstat", &fd)) return env.Undefined();
  struct stat st;
  if (fstat(fd, &st) == -1) return Errno(env, errno);
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(st.st_dev)));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(st.st_ino)));
  out.Set(2u, Napi::Number::New(env, st.st_mode & S_IFMT));
  return out;
}

// sendfile(outFd, inFd, offset, count) -> bytes sent | -errno
Napi::Value Sendfile(const Napi::CallbackInfo& info) {
  int out_fd, in_fd;
  // Check every argument before reading any: ArgInt throws, and a second throw aborts the process.
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber()) {
    return ThrowType(info.Env(), "sendfile", "expected (outFd, inFd, offset, count)");
  }
  ArgInt(info, 0, "sendfile", &out_fd);
  ArgInt(info, 1, "sendfile", &in_fd);
  off_t offset = static_cast<off_t>(info[2].As<Napi::Number>().Int64Value());
  size_t count = static_cast<size_t>(info[3].As<Napi::Number>().Int64Value());
  ssize_t n = RETRY_EINTR(sendfile(out_fd, in_fd, &offset, count));
  return Napi::Number::New(info.Env(), n == -1 ? -errno : static_cast<double>(n));
}

// recvmmsg(fd, slab, slotSize, maxCount, meta: Int32Array, addrs: Uint8Array) -> count | -errno
// Reads up to maxCount datagrams in one system call: datagram i lands at
// slab[i*slotSize], meta[2i] = its length (flags MSG_TRUNC when cut),
// meta[2i+1] = its sockaddr length, its sockaddr at addrs[i*128].
Napi::Value Recvmmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, slot, max;
  uint8_t* slab;
  size_t slab_len;
  uint8_t* addrs;
  size_t addrs_len;
  if (!ArgInt(info, 0, "recvmmsg", &fd) || !ArgBytes(info, 1, "recvmmsg", &slab, &slab_len) || !ArgInt(info, 2, "recvmmsg", &slot) ||
      !ArgInt(info, 3, "recvmmsg", &max))
    return env.Undefined();
  if (info.Length() < 5 || !info[4].IsTypedArray()) return ThrowType(env, "recvmmsg", "meta must be an Int32Array");
  if (!ArgBytes(info, 5, "recvmmsg", &addrs, &addrs_len)) return env.Undefined();
  Napi::TypedArray meta_array = info[4].As<Napi::TypedArray>();
  if (meta_array.TypedArrayType() != napi_int32_array) return ThrowType(env, "recvmmsg", "meta must be an Int32Array");
  Napi::Int32Array meta = meta_array.As<Napi::Int32Array>();
  constexpr int kAddrSlot = 128;
  constexpr int kMaxBatch = 64;
  if (slot <= 0 || max <= 0) return ThrowType(env, "recvmmsg", "slotSize and maxCount must be positive");
  if (max > kMaxBatch) max = kMaxBatch;
  if (static_cast<size_t>(slot) * max > slab_len) max = static_cast<int>(slab_len / slot);
  if (static_cast<size_t>(kAddrSlot) * max > addrs_len) max = static_cast<int>(addrs_len / kAddrSlot);
  if (static_cast<size_t>(2 * max) > meta.ElementLength()) max = static_cast<int>(meta.ElementLength() / 2);
  if (max <= 0) return ThrowType(env, "recvmmsg", "buffers too small for one datagram");
  mmsghdr msgs[kMaxBatch];
  iovec iov[kMaxBatch];
  memset(msgs, 0, sizeof(mmsghdr) * max);
  for (int i = 0; i < max; i++) {
    iov[i].iov_base = slab + static_cast<size_t>(i) * slot;
    iov[i].iov_len = slot;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = addrs + static_cast<size_t>(i) * kAddrSlot;
    msgs[i].msg_hdr.msg_namelen = kAddrSlot;
  }
  int n = RETRY_EINTR(recvmmsg(fd, msgs, max, MSG_DONTWAIT, nullptr));
  if (n == -1) return Errno(env, errno);
  int32_t* m = meta.Data();
  for (int i = 0; i < n; i++) {
    m[2 * i] = static_cast<int32_t>(msgs[i].msg_len);
    m[2 * i + 1] = static_cast<int32_t>(msgs[i].msg_hdr.msg_namelen);
  }
  return Napi::Number::New(env, n);
}

// decodeSockaddr(bytes, offset, length) -> address (as FromSockaddr)
Napi::Value DecodeSockaddr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* data;
  size_t length;
  int offset, len;
  if (!ArgBytes(info, 0, "decodeSockaddr", &data, &length) || !ArgInt(info, 1, "decodeSockaddr", &offset) || !ArgInt(info, 2, "decodeSockaddr", &len)) return env.Undefined();
  if (offset < 0 || len < 0 || static_cast<size_t>(offset) + len > length || len > static_cast<int>(sizeof(sockaddr_storage))) {
    return ThrowType(env, "decodeSockaddr", "range outside the buffer");
  }
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, data + offset, len);
  return FromSockaddr(env, reinterpret_cast<sockaddr*>(&ss), len);
}

// lseek(fd, offset, whence) -> new offset | -errno
Napi::Value Lseek(const Napi::CallbackInfo& info) {
  int fd, whence;
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) return ThrowType(info.Env(), "lseek", "expected (fd, offset, whence)");
  ArgInt(info, 0, "lseek", &fd);
  ArgInt(info, 2, "lseek", &whence);
  off_t r = lseek(fd, static_cast<off_t>(info[1].As<Napi::Number>().Int64Value()), whence);
  return Napi::Number::New(info.Env(), r == -1 ? -errno : static_cast<double>(r));
}

Napi::Value GaiStrerror(const Napi::CallbackInfo& info) {
  int code;
  if (!ArgInt(info, 0, "gaiStrerror", &code)) return info.Env().Undefined();
  return Napi::String::New(info.Env(), gai_strerror(code));
}

void SetConstant(Napi::Env env, Napi::Object obj, const char* name, int value) {
  obj.Set(name, Napi::Number::New(env, value));
}

}  // namespace

void InitSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket, "socket"));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("setblocking", Napi::Function::New(env, SetBlocking, "setblocking"));
  exports.Set("getblocking", Napi::Function::New(env, GetBlocking, "getblocking"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("connect", Napi::Function::New(env, Connect, "connect"));
  exports.Set("listen", Napi::Function::New(env, Listen, "listen"));
  exports.Set("accept", Napi::Function::New(env, Accept, "accept"));
  exports.Set("recv", Napi::Function::New(env, Recv, "recv"));
  exports.Set("recvfrom", Napi::Function::New(env, Recvfrom, "recvfrom"));
  exports.Set("send", Napi::Function::New(env, Send, "send"));
  exports.Set("sendto", Napi::Function::New(env, Sendto, "sendto"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
  exports.Set("getsockname", Napi::Function::New(env, Getsockname, "getsockname"));
  exports.Set("getpeername", Napi::Function::New(env, Getpeername, "getpeername"));
  exports.Set("setsockopt", Napi::Function::New(env, Setsockopt, "setsockopt"));
  exports.Set("getsockopt", Napi::Function::New(env, Getsockopt, "getsockopt"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
  exports.Set("sockinfo", Napi::Function::New(env, Sockinfo, "sockinfo"));
  exports.Set("fdstat", Napi::Function::New(env, Fdstat, "fdstat"));
  exports.Set("sendfile", Napi::Function::New(env, Sendfile, "sendfile"));
  exports.Set("recvmmsg", Napi::Function::New(env, Recvmmsg, "recvmmsg"));
  exports.Set("decodeSockaddr", Napi::Function::New(env, DecodeSockaddr, "decodeSockaddr"));
  exports.Set("lseek", Napi::Function::New(env, Lseek, "lseek"));
  exports.Set("gaiStrerror", Napi::Function::New(env, GaiStrerror, "gaiStrerror"));

  Napi::Object c = Napi::Object::New(env);
  SetConstant(env, c, "AF_UNSPEC", AF_UNSPEC);
  SetConstant(env, c, "AF_INET", AF_INET);
  SetConstant(env, c, "AF_INET6", AF_INET6);
  SetConstant(env, c, "AF_UNIX", AF_UNIX);
  SetConstant(env, c, "SOCK_STREAM", SOCK_STREAM);
  SetConstant(env, c, "SOCK_DGRAM", SOCK_DGRAM);
  SetConstant(env, c, "SOCK_RAW", SOCK_RAW);
  SetConstant(env, c, "SOCK_SEQPACKET", SOCK_SEQPACKET);
  SetConstant(env, c, "SOCK_NONBLOCK", SOCK_NONBLOCK);
  SetConstant(env, c, "SOCK_CLOEXEC", SOCK_CLOEXEC);
  SetConstant(env, c, "SOL_SOCKET", SOL_SOCKET);
  SetConstant(env, c, "SO_REUSEADDR", SO_REUSEADDR);
  SetConstant(env, c, "SO_REUSEPORT", SO_REUSEPORT);
  SetConstant(env, c, "SO_BROADCAST", SO_BROADCAST);
  SetConstant(env, c, "SO_KEEPALIVE", SO_KEEPALIVE);
  SetConstant(env, c, "SO_SNDBUF", SO_SNDBUF);
  SetConstant(env, c, "SO_RCVBUF", SO_RCVBUF);
  SetConstant(env, c, "SO_ERROR", SO_ERROR);
  SetConstant(env, c, "SO_TYPE", SO_TYPE);
  SetConstant(env, c, "SO_LINGER", SO_LINGER);
  SetConstant(env, c, "SO_RCVLOWAT", SO_RCVLOWAT);
  SetConstant(env, c, "SO_SNDLOWAT", SO_SNDLOWAT);
  SetConstant(env, c, "IPPROTO_IP", IPPROTO_IP);
  SetConstant(env, c, "IPPROTO_IPV6", IPPROTO_IPV6);
  SetConstant(env, c, "IPPROTO_TCP", IPPROTO_TCP);
  SetConstant(env, c, "IPPROTO_UDP", IPPROTO_UDP);
  SetConstant(env, c, "IPV6_V6ONLY", IPV6_V6ONLY);
  SetConstant(env, c, "TCP_NODELAY", TCP_NODELAY);
  SetConstant(env, c, "SHUT_RD", SHUT_RD);
  SetConstant(env, c, "SHUT_WR", SHUT_WR);
  SetConstant(env, c, "SHUT_RDWR", SHUT_RDWR);
  SetConstant(env, c, "MSG_PEEK", MSG_PEEK);
  SetConstant(env, c, "MSG_DONTWAIT", MSG_DONTWAIT);
  SetConstant(env, c, "MSG_WAITALL", MSG_WAITALL);
  SetConstant(env, c, "MSG_TRUNC", MSG_TRUNC);
  SetConstant(env, c, "MSG_OOB", MSG_OOB);
  SetConstant(env, c, "SOMAXCONN", SOMAXCONN);
  SetConstant(env, c, "SEEK_SET", SEEK_SET);
  SetConstant(env, c, "SEEK_CUR", SEEK_CUR);
  exports.Set("constants", c);
}

}  // namespace aioloop
