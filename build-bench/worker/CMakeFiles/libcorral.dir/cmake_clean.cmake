file(REMOVE_RECURSE
  "CMakeFiles/libcorral.dir/access_log.c.o"
  "CMakeFiles/libcorral.dir/access_log.c.o.d"
  "CMakeFiles/libcorral.dir/desk_client.c.o"
  "CMakeFiles/libcorral.dir/desk_client.c.o.d"
  "CMakeFiles/libcorral.dir/http_request.c.o"
  "CMakeFiles/libcorral.dir/http_request.c.o.d"
  "CMakeFiles/libcorral.dir/http_server.c.o"
  "CMakeFiles/libcorral.dir/http_server.c.o.d"
  "CMakeFiles/libcorral.dir/log_pusher.c.o"
  "CMakeFiles/libcorral.dir/log_pusher.c.o.d"
  "CMakeFiles/libcorral.dir/notify.c.o"
  "CMakeFiles/libcorral.dir/notify.c.o.d"
  "CMakeFiles/libcorral.dir/plugin_host.c.o"
  "CMakeFiles/libcorral.dir/plugin_host.c.o.d"
  "CMakeFiles/libcorral.dir/signals.c.o"
  "CMakeFiles/libcorral.dir/signals.c.o.d"
  "CMakeFiles/libcorral.dir/worker.c.o"
  "CMakeFiles/libcorral.dir/worker.c.o.d"
  "libcorral.a"
  "libcorral.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/libcorral.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
