file(REMOVE_RECURSE
  "libcorral_config.a"
)
