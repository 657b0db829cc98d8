# cmake/install.cmake: what `cmake --install` puts under the prefix:
# corral and corral-worker, libcorral (shared and static, each holding the
# wire protocol, logging and metrics code it is built on), its public
# headers under include/corral/ (the public API only, docs/abi.md), and
# corral.pc for pkg-config. Programs outside this tree build against it
# (examples/hello-c). Never the test worker (tests/plugins/).
include(GNUInstallDirs)
# Debian's multiarch directory (lib/x86_64-linux-gnu) where there is one,
# whatever the prefix: where the packages put libcorral and corral.pc, and
# where a cross-compiling pkg-config looks.
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(CORRAL_INSTALL_LIBDIR lib/${CMAKE_LIBRARY_ARCHITECTURE})
else()
  set(CORRAL_INSTALL_LIBDIR ${CMAKE_INSTALL_LIBDIR})
endif()

# Every object libcorral is made of; the internal libraries are static
# archives with position-independent code.
set(CORRAL_LIB_OBJECTS
  $<TARGET_OBJECTS:libcorral> $<TARGET_OBJECTS:corral_base> $<TARGET_OBJECTS:corral_envelope>
  $<TARGET_OBJECTS:corral_proto> $<TARGET_OBJECTS:corral_logging>
  $<TARGET_OBJECTS:corral_metrics>)
# Compiled with hidden visibility: libcorral.so exports only what
# include/corral/ declares with CORRAL_EXPORT (tests/abi checks it), not
# its internal functions nor the generated protobuf-c code.
set_target_properties(libcorral corral_base corral_envelope corral_proto corral_logging
  corral_metrics PROPERTIES C_VISIBILITY_PRESET hidden)
set(CORRAL_LIB_DEPENDENCIES PkgConfig::CZMQ PkgConfig::ZMQ PkgConfig::MHD
  PkgConfig::JANSSON PkgConfig::PROTOBUF_C m)

add_library(corral_shared SHARED ${CORRAL_LIB_OBJECTS})
target_link_libraries(corral_shared PRIVATE ${CORRAL_LIB_DEPENDENCIES})
set_target_properties(corral_shared PROPERTIES
  OUTPUT_NAME corral VERSION ${PROJECT_VERSION} SOVERSION ${CORRAL_ABI_VERSION}
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

# Writes the public ABI of this build's libcorral.so as the baseline the
# abi_baseline test compares with (tools/abi, docs/abi.md).
add_custom_target(abi-baseline
  COMMAND ${PROJECT_SOURCE_DIR}/tools/abi update $<TARGET_FILE:corral_shared>
  DEPENDS corral_shared VERBATIM)

add_library(corral_static STATIC ${CORRAL_LIB_OBJECTS})
set_target_properties(corral_static PROPERTIES
  OUTPUT_NAME corral ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

# A sanitized library needs a sanitized program: say so in corral.pc.
if(CORRAL_SANITIZE)
  set(CORRAL_PC_CFLAGS " -fsanitize=address,undefined -fno-omit-frame-pointer")
  set(CORRAL_PC_LIBS " -fsanitize=address,undefined")
endif()
file(RELATIVE_PATH CORRAL_PC_TO_PREFIX "/prefix/${CORRAL_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${CMAKE_CURRENT_LIST_DIR}/corral.pc.in ${CMAKE_BINARY_DIR}/corral.pc @ONLY)

install(TARGETS corral corral-worker RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT corral)
# the components are cmake/package.cmake's Debian packages
install(TARGETS corral_shared corral_static
  LIBRARY DESTINATION ${CORRAL_INSTALL_LIBDIR} COMPONENT corral_lib NAMELINK_COMPONENT corral_dev
  ARCHIVE DESTINATION ${CORRAL_INSTALL_LIBDIR} COMPONENT corral_dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/corral
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT corral_dev FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_BINARY_DIR}/corral.pc DESTINATION ${CORRAL_INSTALL_LIBDIR}/pkgconfig
  COMPONENT corral_dev)
# the wire protocol, for workers in other languages (protoc --python_out, ...)
install(FILES ${PROJECT_SOURCE_DIR}/proto/corral/v1/corral.proto
  DESTINATION ${CMAKE_INSTALL_DATADIR}/corral/proto/corral/v1 COMPONENT corral_dev)
