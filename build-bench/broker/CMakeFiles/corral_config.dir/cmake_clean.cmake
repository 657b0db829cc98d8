file(REMOVE_RECURSE
  "CMakeFiles/corral_config.dir/config.c.o"
  "CMakeFiles/corral_config.dir/config.c.o.d"
  "CMakeFiles/corral_config.dir/config_logging.c.o"
  "CMakeFiles/corral_config.dir/config_logging.c.o.d"
  "CMakeFiles/corral_config.dir/cpu_quota.c.o"
  "CMakeFiles/corral_config.dir/cpu_quota.c.o.d"
  "CMakeFiles/corral_config.dir/fsutil.c.o"
  "CMakeFiles/corral_config.dir/fsutil.c.o.d"
  "libcorral_config.a"
  "libcorral_config.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/corral_config.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
