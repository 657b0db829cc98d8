file(REMOVE_RECURSE
  "CMakeFiles/corral_proto.dir/corral/v1/corral.pb-c.c.o"
  "CMakeFiles/corral_proto.dir/corral/v1/corral.pb-c.c.o.d"
  "corral/v1/corral.pb-c.c"
  "corral/v1/corral.pb-c.h"
  "libcorral_proto.a"
  "libcorral_proto.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/corral_proto.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
