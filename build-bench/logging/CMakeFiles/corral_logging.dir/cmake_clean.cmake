file(REMOVE_RECURSE
  "CMakeFiles/corral_logging.dir/appender.c.o"
  "CMakeFiles/corral_logging.dir/appender.c.o.d"
  "CMakeFiles/corral_logging.dir/appender_console.c.o"
  "CMakeFiles/corral_logging.dir/appender_console.c.o.d"
  "CMakeFiles/corral_logging.dir/appender_file.c.o"
  "CMakeFiles/corral_logging.dir/appender_file.c.o.d"
  "CMakeFiles/corral_logging.dir/appender_rolling_file.c.o"
  "CMakeFiles/corral_logging.dir/appender_rolling_file.c.o.d"
  "CMakeFiles/corral_logging.dir/date_format.c.o"
  "CMakeFiles/corral_logging.dir/date_format.c.o.d"
  "CMakeFiles/corral_logging.dir/layout.c.o"
  "CMakeFiles/corral_logging.dir/layout.c.o.d"
  "CMakeFiles/corral_logging.dir/layout_json.c.o"
  "CMakeFiles/corral_logging.dir/layout_json.c.o.d"
  "CMakeFiles/corral_logging.dir/layout_pattern.c.o"
  "CMakeFiles/corral_logging.dir/layout_pattern.c.o.d"
  "CMakeFiles/corral_logging.dir/level.c.o"
  "CMakeFiles/corral_logging.dir/level.c.o.d"
  "CMakeFiles/corral_logging.dir/line_buffer.c.o"
  "CMakeFiles/corral_logging.dir/line_buffer.c.o.d"
  "CMakeFiles/corral_logging.dir/log.c.o"
  "CMakeFiles/corral_logging.dir/log.c.o.d"
  "CMakeFiles/corral_logging.dir/policy.c.o"
  "CMakeFiles/corral_logging.dir/policy.c.o.d"
  "CMakeFiles/corral_logging.dir/router.c.o"
  "CMakeFiles/corral_logging.dir/router.c.o.d"
  "CMakeFiles/corral_logging.dir/strategy.c.o"
  "CMakeFiles/corral_logging.dir/strategy.c.o.d"
  "libcorral_logging.a"
  "libcorral_logging.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/corral_logging.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
