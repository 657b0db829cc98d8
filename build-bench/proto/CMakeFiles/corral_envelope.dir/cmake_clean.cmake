file(REMOVE_RECURSE
  "CMakeFiles/corral_envelope.dir/envelope.c.o"
  "CMakeFiles/corral_envelope.dir/envelope.c.o.d"
  "libcorral_envelope.a"
  "libcorral_envelope.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/corral_envelope.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
