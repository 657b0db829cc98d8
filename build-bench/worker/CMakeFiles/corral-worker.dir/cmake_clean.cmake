file(REMOVE_RECURSE
  "../bin/corral-worker"
  "../bin/corral-worker.pdb"
  "CMakeFiles/corral-worker.dir/main.c.o"
  "CMakeFiles/corral-worker.dir/main.c.o.d"
  "CMakeFiles/corral-worker.dir/plugins/demo.c.o"
  "CMakeFiles/corral-worker.dir/plugins/demo.c.o.d"
  "CMakeFiles/corral-worker.dir/plugins/log_records.c.o"
  "CMakeFiles/corral-worker.dir/plugins/log_records.c.o.d"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/corral-worker.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
