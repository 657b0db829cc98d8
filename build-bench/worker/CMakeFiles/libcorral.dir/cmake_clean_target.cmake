file(REMOVE_RECURSE
  "libcorral.a"
)
