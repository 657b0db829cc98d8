{
  "targets": [{
    "target_name": "corral_handoff",
    "sources": ["src/handoff.c"],
    "include_dirs": ["../../proto"],
    "cflags": ["-Wall", "-Wextra", "-Werror", "-std=gnu11"]
  }]
}
