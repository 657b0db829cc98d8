
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt/issue4/broker/config.c" "broker/CMakeFiles/corral_config.dir/config.c.o" "gcc" "broker/CMakeFiles/corral_config.dir/config.c.o.d"
  "/work/wt/issue4/broker/config_logging.c" "broker/CMakeFiles/corral_config.dir/config_logging.c.o" "gcc" "broker/CMakeFiles/corral_config.dir/config_logging.c.o.d"
  "/work/wt/issue4/broker/cpu_quota.c" "broker/CMakeFiles/corral_config.dir/cpu_quota.c.o" "gcc" "broker/CMakeFiles/corral_config.dir/cpu_quota.c.o.d"
  "/work/wt/issue4/broker/fsutil.c" "broker/CMakeFiles/corral_config.dir/fsutil.c.o" "gcc" "broker/CMakeFiles/corral_config.dir/fsutil.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/wt/issue4/build-bench/logging/CMakeFiles/corral_logging.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/proto/CMakeFiles/corral_proto.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
