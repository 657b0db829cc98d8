
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt/issue4/broker/coordinator.c" "broker/CMakeFiles/corral.dir/coordinator.c.o" "gcc" "broker/CMakeFiles/corral.dir/coordinator.c.o.d"
  "/work/wt/issue4/broker/listener.c" "broker/CMakeFiles/corral.dir/listener.c.o" "gcc" "broker/CMakeFiles/corral.dir/listener.c.o.d"
  "/work/wt/issue4/broker/log_collector.c" "broker/CMakeFiles/corral.dir/log_collector.c.o" "gcc" "broker/CMakeFiles/corral.dir/log_collector.c.o.d"
  "/work/wt/issue4/broker/logging_control.c" "broker/CMakeFiles/corral.dir/logging_control.c.o" "gcc" "broker/CMakeFiles/corral.dir/logging_control.c.o.d"
  "/work/wt/issue4/broker/main.c" "broker/CMakeFiles/corral.dir/main.c.o" "gcc" "broker/CMakeFiles/corral.dir/main.c.o.d"
  "/work/wt/issue4/broker/pidfile.c" "broker/CMakeFiles/corral.dir/pidfile.c.o" "gcc" "broker/CMakeFiles/corral.dir/pidfile.c.o.d"
  "/work/wt/issue4/broker/runtime_dir.c" "broker/CMakeFiles/corral.dir/runtime_dir.c.o" "gcc" "broker/CMakeFiles/corral.dir/runtime_dir.c.o.d"
  "/work/wt/issue4/broker/spawn.c" "broker/CMakeFiles/corral.dir/spawn.c.o" "gcc" "broker/CMakeFiles/corral.dir/spawn.c.o.d"
  "/work/wt/issue4/broker/worker_config.c" "broker/CMakeFiles/corral.dir/worker_config.c.o" "gcc" "broker/CMakeFiles/corral.dir/worker_config.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/wt/issue4/build-bench/broker/CMakeFiles/corral_config.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/proto/CMakeFiles/corral_envelope.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/worker/CMakeFiles/libcorral.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/logging/CMakeFiles/corral_logging.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/proto/CMakeFiles/corral_proto.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
