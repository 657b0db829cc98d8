file(REMOVE_RECURSE
  "libcorral_logging.a"
)
