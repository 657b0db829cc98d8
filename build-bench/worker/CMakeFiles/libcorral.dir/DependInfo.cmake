
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt/issue4/worker/access_log.c" "worker/CMakeFiles/libcorral.dir/access_log.c.o" "gcc" "worker/CMakeFiles/libcorral.dir/access_log.c.o.d"
  "/work/wt/issue4/worker/desk_client.c" "worker/CMakeFiles/libcorral.dir/desk_client.c.o" "gcc" "worker/CMakeFiles/libcorral.dir/desk_client.c.o.d"
  "/work/wt/issue4/worker/http_request.c" "worker/CMakeFiles/libcorral.dir/http_request.c.o" "gcc" "worker/CMakeFiles/libcorral.dir/http_request.c.o.d"
  "/work/wt/issue4/worker/http_server.c" "worker/CMakeFiles/libcorral.dir/http_server.c.o" "gcc" "worker/CMakeFiles/libcorral.dir/http_server.c.o.d"
  "/work/wt/issue4/worker/log_pusher.c" "worker/CMakeFiles/libcorral.dir/log_pusher.c.o" "gcc" "worker/CMakeFiles/libcorral.dir/log_pusher.c.o.d"
  "/work/wt/issue4/worker/notify.c" "worker/CMakeFiles/libcorral.dir/notify.c.o" "gcc" "worker/CMakeFiles/libcorral.dir/notify.c.o.d"
  "/work/wt/issue4/worker/plugin_host.c" "worker/CMakeFiles/libcorral.dir/plugin_host.c.o" "gcc" "worker/CMakeFiles/libcorral.dir/plugin_host.c.o.d"
  "/work/wt/issue4/worker/signals.c" "worker/CMakeFiles/libcorral.dir/signals.c.o" "gcc" "worker/CMakeFiles/libcorral.dir/signals.c.o.d"
  "/work/wt/issue4/worker/worker.c" "worker/CMakeFiles/libcorral.dir/worker.c.o" "gcc" "worker/CMakeFiles/libcorral.dir/worker.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/wt/issue4/build-bench/proto/CMakeFiles/corral_envelope.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/logging/CMakeFiles/corral_logging.dir/DependInfo.cmake"
  "/work/wt/issue4/build-bench/proto/CMakeFiles/corral_proto.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
