
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt/issue4/worker/main.c" "worker/CMakeFiles/corral-worker.dir/main.c.o" "gcc" "worker/CMakeFiles/corral-worker.dir/main.c.o.d"
  "/work/wt/issue4/worker/plugins/demo.c" "worker/CMakeFiles/corral-worker.dir/plugins/demo.c.o" "gcc" "worker/CMakeFiles/corral-worker.dir/plugins/demo.c.o.d"
  "/work/wt/issue4/worker/plugins/log_records.c" "worker/CMakeFiles/corral-worker.dir/plugins/log_records.c.o" "gcc" "worker/CMakeFiles/corral-worker.dir/plugins/log_records.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/wt/issue4/build-bench/worker/CMakeFiles/libcorral.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/proto/CMakeFiles/corral_envelope.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/logging/CMakeFiles/corral_logging.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/proto/CMakeFiles/corral_proto.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
