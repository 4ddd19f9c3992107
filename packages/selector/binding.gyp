{
  "targets": [
    {
      "target_name": "selector",
      "sources": ["native/selector.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [["OS=='win'", { "sources!": ["native/selector.c"] }]]
    }
  ]
}
