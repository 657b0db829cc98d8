file(REMOVE_RECURSE
  "CMakeFiles/corral_logging.dir/level.c.o"
  "CMakeFiles/corral_logging.dir/level.c.o.d"
  "CMakeFiles/corral_logging.dir/log.c.o"
  "CMakeFiles/corral_logging.dir/log.c.o.d"
  "libcorral_logging.a"
  "libcorral_logging.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/corral_logging.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
