# build_packages.cmake: `cpack` in the build directory, into a fresh
# PACKAGES directory (an old .deb left there would be checked too).
file(REMOVE_RECURSE ${PACKAGES})
execute_process(COMMAND ${CPACK} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cpack failed: ${result}")
endif()
file(GLOB debs ${PACKAGES}/*.deb)
list(LENGTH debs count)
if(NOT count EQUAL 3)
  message(FATAL_ERROR "expected 3 packages, got: ${debs}")
endif()
