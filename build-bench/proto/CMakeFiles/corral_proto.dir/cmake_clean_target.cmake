file(REMOVE_RECURSE
  "libcorral_proto.a"
)
