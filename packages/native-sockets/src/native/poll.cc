// Poll: a libuv uv_poll_t on one file descriptor, the readiness watcher of
// loop.addReader/addWriter and the sock* methods (as uvloop's UVPoll).
//
//   new Poll(fd, callback(status, events), ownsFd)
//   poll.start(events)   UV_READABLE | UV_WRITABLE, replaces the previous set
//   poll.stop()
//   poll.close()         stops for good; closes fd when ownsFd
//
// Handles are unref'd: the aioloop loop keeps the process alive while it
// runs, a watcher never does. The fd's O_NONBLOCK flag is left as it was
// (uv_poll_init sets it; Python's add_reader does not change blocking mode).
#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"

namespace aioloop {

namespace {

class Poll : public Napi::ObjectWrap<Poll> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poll",
                       {InstanceMethod<&Poll::Start>("start"), InstanceMethod<&Poll::Stop>("stop"),
                        InstanceMethod<&Poll::Close>("close"), InstanceAccessor<&Poll::Fd>("fd")});
  }

  explicit Poll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poll>(info) {
    Napi::Env env = info.Env();
    if (!ArgInt(info, 0, "Poll", &fd_)) return;
    if (info.Length() < 2 || !info[1].IsFunction()) {
      ThrowType(env, "Poll", "the callback must be a function");
      return;
    }
    owns_fd_ = info.Length() > 2 && info[2].ToBoolean().Value();
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      Napi::Error::New(env, "Poll: no libuv loop").ThrowAsJavaScriptException();
      return;
    }
    int flags = fcntl(fd_, F_GETFL);
    if (flags == -1) {
      ThrowSystem(env, errno, "poll");
      return;
    }
    int rc = uv_poll_init(loop, &handle_, fd_);
    if (rc != 0) {
      ThrowSystem(env, -rc, "poll");
      return;
    }
    if (!(flags & O_NONBLOCK)) fcntl(fd_, F_SETFL, flags);
    handle_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&handle_));
    open_ = true;
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    async_context_ = new Napi::AsyncContext(env, "aioloop.Poll", Value());
    // The JavaScript object lives while libuv holds the handle.
    Ref();
  }

  ~Poll() override { delete async_context_; }

 private:
  static void ThrowSystem(Napi::Env env, int err, const char* syscall) {
    Napi::Error e = Napi::Error::New(env, std::string(syscall) + " " + uv_err_name(-err) + " (" + uv_strerror(-err) + ")");
    e.Set("errno", Napi::Number::New(env, -err));
    e.Set("code", Napi::String::New(env, uv_err_name(-err)));
    e.Set("syscall", Napi::String::New(env, syscall));
    e.ThrowAsJavaScriptException();
  }

  // start(events) -> 0 | -errno
  Napi::Value Start(const Napi::CallbackInfo& info) {
    int events;
    if (!ArgInt(info, 0, "Poll.start", &events)) return info.Env().Undefined();
    if (!open_) return Napi::Number::New(info.Env(), -EBADF);
    // A closed fd would make libuv abort when it registers the watcher.
    if (fcntl(fd_, F_GETFD) == -1) return Errno(info.Env(), errno);
    return Napi::Number::New(info.Env(), uv_poll_start(&handle_, events, OnPoll));
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (open_) uv_poll_stop(&handle_);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!open_) return info.Env().Undefined();
    open_ = false;
    // uv_poll_stop removes the fd from epoll at once, so it may be closed now.
    uv_poll_stop(&handle_);
    if (owns_fd_) close(fd_);
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_), OnClose);
    return info.Env().Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), open_ ? fd_ : -1); }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    Poll* self = static_cast<Poll*>(handle->data);
    if (!self->open_) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // napi_make_callback needs an object receiver: the Poll itself.
    self->callback_.MakeCallback(self->Value(), {Napi::Number::New(env, status), Napi::Number::New(env, events)}, *self->async_context_);
  }

  static void OnClose(uv_handle_t* handle) {
    Poll* self = static_cast<Poll*>(handle->data);
    self->callback_.Reset();
    self->Unref();
  }

  uv_poll_t handle_;
  int fd_ = -1;
  bool owns_fd_ = false;
  bool open_ = false;
  Napi::FunctionReference callback_;
  Napi::AsyncContext* async_context_ = nullptr;
};

}  // namespace

void InitPoll(Napi::Env env, Napi::Object exports) {
  exports.Set("Poll", Poll::Define(env));
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("UV_READABLE", Napi::Number::New(env, UV_READABLE));
  c.Set("UV_WRITABLE", Napi::Number::New(env, UV_WRITABLE));
  c.Set("UV_DISCONNECT", Napi::Number::New(env, UV_DISCONNECT));
}

}  // namespace aioloop
