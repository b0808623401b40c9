{
  "targets": [
    {
      "target_name": "aioloop_native_sockets",
      "sources": [
        "src/native/addon.cc",
        "src/native/errors.cc",
        "src/native/sockaddr.cc",
        "src/native/socket.cc",
        "src/native/poll.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-O2", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-O2", "-fvisibility=hidden", "-fno-exceptions"],
      "conditions": [
        ["OS=='mac'", { "xcode_settings": { "GCC_SYMBOLS_PRIVATE_EXTERN": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17" } }]
      ]
    }
  ]
}
