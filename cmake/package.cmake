# cmake/package.cmake: the Debian packages, built by CPack's DEB generator
# from the tree the suite just built and tested (`cpack` in the build
# directory; docs/packaging.md says why CPack and not debian/):
#   corral         corral, corral-worker, corralctl; /etc/corral/corral.yml,
#                  corral.service and corral.socket, the sysusers.d user,
#                  logrotate, man pages, bash completion, the docs
#   libcorral0     libcorral.so.0 (the SONAME)
#   libcorral-dev  headers, libcorral.so, libcorral.a, corral.pc, corral.proto
# The files only the package installs (absolute paths under /etc) are in
# components outside `cmake --install`'s default set.
find_program(CORRAL_PANDOC pandoc)
find_program(CORRAL_GZIP gzip REQUIRED)

set(CORRAL_PACKAGE_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(CORRAL_PACKAGE_BUILD ${CMAKE_BINARY_DIR}/packaging)

# Man pages: docs/man/*.md through pandoc, compressed as Debian wants
# (gzip -9n: no name, no time stamp, so the bytes are reproducible).
set(CORRAL_MAN_PAGES corral.8 corral-worker.8 corralctl.8 corral.yml.5)
set(CORRAL_MAN_OUTPUTS)
if(CORRAL_PANDOC)
  foreach(page IN LISTS CORRAL_MAN_PAGES)
    set(output ${CORRAL_PACKAGE_BUILD}/man/${page}.gz)
    add_custom_command(OUTPUT ${output}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CORRAL_PACKAGE_BUILD}/man
      COMMAND ${CORRAL_PANDOC} -s -t man ${PROJECT_SOURCE_DIR}/docs/man/${page}.md
              -o ${CORRAL_PACKAGE_BUILD}/man/${page}
      COMMAND ${CORRAL_GZIP} -9nf ${CORRAL_PACKAGE_BUILD}/man/${page}
      DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/${page}.md
      COMMENT "pandoc docs/man/${page}.md")
    list(APPEND CORRAL_MAN_OUTPUTS ${output})
    string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
    install(FILES ${output} DESTINATION share/man/man${section}
            COMPONENT corral_system EXCLUDE_FROM_ALL)
  endforeach()
  add_custom_target(corral_man ALL DEPENDS ${CORRAL_MAN_OUTPUTS})
endif()

add_custom_command(OUTPUT ${CORRAL_PACKAGE_BUILD}/changelog.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CORRAL_PACKAGE_BUILD}
  COMMAND ${CORRAL_GZIP} -9n < ${CORRAL_PACKAGE_DIR}/changelog > ${CORRAL_PACKAGE_BUILD}/changelog.gz
  DEPENDS ${CORRAL_PACKAGE_DIR}/changelog)
add_custom_target(corral_changelog ALL DEPENDS ${CORRAL_PACKAGE_BUILD}/changelog.gz)

# What only the package installs.
install(FILES ${CORRAL_PACKAGE_DIR}/corral.yml DESTINATION /etc/corral
        COMPONENT corral_system EXCLUDE_FROM_ALL)
install(FILES ${CORRAL_PACKAGE_DIR}/corral.logrotate DESTINATION /etc/logrotate.d
        RENAME corral COMPONENT corral_system EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/corral.service ${PROJECT_SOURCE_DIR}/docs/corral.socket
        DESTINATION lib/systemd/system COMPONENT corral_system EXCLUDE_FROM_ALL)
install(FILES ${CORRAL_PACKAGE_DIR}/corral.sysusers DESTINATION lib/sysusers.d
        RENAME corral.conf COMPONENT corral_system EXCLUDE_FROM_ALL)
install(FILES ${CORRAL_PACKAGE_DIR}/corralctl.bash-completion
        DESTINATION share/bash-completion/completions RENAME corralctl
        COMPONENT corral_system EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/corral
        COMPONENT corral_system EXCLUDE_FROM_ALL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION share/doc/corral
        COMPONENT corral_system EXCLUDE_FROM_ALL FILES_MATCHING PATTERN "*.md"
        PATTERN "man" EXCLUDE)
foreach(package_and_component corral:corral_system libcorral0:corral_lib_doc
                              libcorral-dev:corral_dev_doc)
  string(REPLACE ":" ";" pair ${package_and_component})
  list(GET pair 0 package)
  list(GET pair 1 component)
  install(FILES ${CORRAL_PACKAGE_DIR}/copyright ${CORRAL_PACKAGE_BUILD}/changelog.gz
          DESTINATION share/doc/${package} COMPONENT ${component} EXCLUDE_FROM_ALL)
endforeach()
install(FILES ${CORRAL_PACKAGE_DIR}/libcorral0.lintian-overrides
        DESTINATION share/lintian/overrides RENAME libcorral0
        COMPONENT corral_lib_doc EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME corral)
set(CPACK_PACKAGE_VENDOR "corral maintainers")
set(CPACK_PACKAGE_CONTACT "corral maintainers <maintainers@users.noreply.r-seed-2d568d01.example>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL corral corral_system corral_lib corral_lib_doc corral_dev corral_dev_doc)
set(CPACK_COMPONENT_CORRAL_GROUP corral)
set(CPACK_COMPONENT_CORRAL_SYSTEM_GROUP corral)
set(CPACK_COMPONENT_CORRAL_LIB_GROUP libcorral0)
set(CPACK_COMPONENT_CORRAL_LIB_DOC_GROUP libcorral0)
set(CPACK_COMPONENT_CORRAL_DEV_GROUP libcorral-dev)
set(CPACK_COMPONENT_CORRAL_DEV_DOC_GROUP libcorral-dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/corral/corral")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_CORRAL_PACKAGE_NAME corral)
set(CPACK_DEBIAN_CORRAL_PACKAGE_SECTION httpd)
set(CPACK_DEBIAN_CORRAL_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers")
set(CPACK_DEBIAN_CORRAL_PACKAGE_CONTROL_EXTRA
    ${CORRAL_PACKAGE_DIR}/postinst ${CORRAL_PACKAGE_DIR}/postrm ${CORRAL_PACKAGE_DIR}/conffiles)
set(CPACK_DEBIAN_CORRAL_DESCRIPTION
"coordinator running an event-loop HTTP server on every core
corral runs one single-threaded HTTP server as many worker processes
sharing one port: it balances connections, supervises and replaces
workers, reloads and upgrades without dropping a connection, and
collects their logs and metrics. This package holds corral, its
reference worker, corralctl, the systemd units and the configuration.")

set(CPACK_DEBIAN_LIBCORRAL0_PACKAGE_NAME libcorral0)
set(CPACK_DEBIAN_LIBCORRAL0_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_LIBCORRAL0_PACKAGE_CONTROL_EXTRA ${CORRAL_PACKAGE_DIR}/libcorral0/triggers)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)      # only libcorral0 has a shared object
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_LIBCORRAL0_DESCRIPTION
"library for writing corral workers in C
libcorral is what a corral worker is made of: the HTTP server, the
coordinator's protocol, logging, metrics and the node service. This
package holds the shared library.")

set(CPACK_DEBIAN_LIBCORRAL-DEV_PACKAGE_NAME libcorral-dev)
set(CPACK_DEBIAN_LIBCORRAL-DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_LIBCORRAL-DEV_PACKAGE_DEPENDS "libcorral0 (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_LIBCORRAL-DEV_DESCRIPTION
"development files for libcorral
libcorral is what a corral worker is made of: the HTTP server, the
coordinator's protocol, logging, metrics and the node service. This
package holds the headers, the static library, corral.pc and the wire
protocol's corral.proto.")
include(CPack)
