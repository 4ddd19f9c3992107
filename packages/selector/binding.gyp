{
  "targets": [
    {
      "target_name": "selector",
      "sources": ["native/selector.c", "native/spawn.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS=='win'", { "sources!": ["native/selector.c", "native/spawn.c"] }],
        ["OS=='linux'", { "libraries": ["-ldl"] }],
        # gyp's Xcode settings, not cflags, reach clang on macOS. The kqueue backend is
        # selected inside selector.c (__APPLE__, the BSDs); nothing to link beyond libc.
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_OPTIMIZATION_LEVEL": "2",
            "OTHER_CFLAGS": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
            "MACOSX_DEPLOYMENT_TARGET": "10.15"
          }
        }]
      ]
    }
  ]
}
