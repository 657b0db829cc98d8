file(REMOVE_RECURSE
  "libcorral_envelope.a"
)
