
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt/issue4/logging/appender.c" "logging/CMakeFiles/corral_logging.dir/appender.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/appender.c.o.d"
  "/work/wt/issue4/logging/appender_console.c" "logging/CMakeFiles/corral_logging.dir/appender_console.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/appender_console.c.o.d"
  "/work/wt/issue4/logging/appender_file.c" "logging/CMakeFiles/corral_logging.dir/appender_file.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/appender_file.c.o.d"
  "/work/wt/issue4/logging/appender_rolling_file.c" "logging/CMakeFiles/corral_logging.dir/appender_rolling_file.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/appender_rolling_file.c.o.d"
  "/work/wt/issue4/logging/date_format.c" "logging/CMakeFiles/corral_logging.dir/date_format.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/date_format.c.o.d"
  "/work/wt/issue4/logging/layout.c" "logging/CMakeFiles/corral_logging.dir/layout.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/layout.c.o.d"
  "/work/wt/issue4/logging/layout_json.c" "logging/CMakeFiles/corral_logging.dir/layout_json.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/layout_json.c.o.d"
  "/work/wt/issue4/logging/layout_pattern.c" "logging/CMakeFiles/corral_logging.dir/layout_pattern.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/layout_pattern.c.o.d"
  "/work/wt/issue4/logging/level.c" "logging/CMakeFiles/corral_logging.dir/level.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/level.c.o.d"
  "/work/wt/issue4/logging/line_buffer.c" "logging/CMakeFiles/corral_logging.dir/line_buffer.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/line_buffer.c.o.d"
  "/work/wt/issue4/logging/log.c" "logging/CMakeFiles/corral_logging.dir/log.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/log.c.o.d"
  "/work/wt/issue4/logging/policy.c" "logging/CMakeFiles/corral_logging.dir/policy.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/policy.c.o.d"
  "/work/wt/issue4/logging/router.c" "logging/CMakeFiles/corral_logging.dir/router.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/router.c.o.d"
  "/work/wt/issue4/logging/strategy.c" "logging/CMakeFiles/corral_logging.dir/strategy.c.o" "gcc" "logging/CMakeFiles/corral_logging.dir/strategy.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/wt/issue4/build-bench/proto/CMakeFiles/corral_proto.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
