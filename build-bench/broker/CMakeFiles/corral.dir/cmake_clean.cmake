file(REMOVE_RECURSE
  "../bin/corral"
  "../bin/corral.pdb"
  "CMakeFiles/corral.dir/coordinator.c.o"
  "CMakeFiles/corral.dir/coordinator.c.o.d"
  "CMakeFiles/corral.dir/listener.c.o"
  "CMakeFiles/corral.dir/listener.c.o.d"
  "CMakeFiles/corral.dir/log_collector.c.o"
  "CMakeFiles/corral.dir/log_collector.c.o.d"
  "CMakeFiles/corral.dir/logging_control.c.o"
  "CMakeFiles/corral.dir/logging_control.c.o.d"
  "CMakeFiles/corral.dir/main.c.o"
  "CMakeFiles/corral.dir/main.c.o.d"
  "CMakeFiles/corral.dir/pidfile.c.o"
  "CMakeFiles/corral.dir/pidfile.c.o.d"
  "CMakeFiles/corral.dir/runtime_dir.c.o"
  "CMakeFiles/corral.dir/runtime_dir.c.o.d"
  "CMakeFiles/corral.dir/spawn.c.o"
  "CMakeFiles/corral.dir/spawn.c.o.d"
  "CMakeFiles/corral.dir/worker_config.c.o"
  "CMakeFiles/corral.dir/worker_config.c.o.d"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/corral.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
