#include "common.h"

namespace aioloop {

Napi::Value ThrowType(Napi::Env env, const char* fn, const char* what) {
  std::string msg(fn);
  msg += ": ";
  msg += what;
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* fn, int* out) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    ThrowType(info.Env(), fn, "expected an integer argument");
    return false;
  }
  *out = info[i].As<Napi::Number>().Int32Value();
  return true;
}

bool ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* fn, uint8_t** data, size_t* length) {
  if (i >= info.Length() || !info[i].IsTypedArray()) {
    ThrowType(info.Env(), fn, "expected a Uint8Array argument");
    return false;
  }
  Napi::TypedArray array = info[i].As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_uint8_array) {
    ThrowType(info.Env(), fn, "expected a Uint8Array argument");
    return false;
  }
  Napi::Uint8Array bytes = array.As<Napi::Uint8Array>();
  *data = bytes.Data();
  *length = bytes.ElementLength();
  return true;
}

}  // namespace aioloop
