# cmake -D BUILD_DIR=... -D WORK_DIR=... -D CONSUMER_DIR=... -D GENERATOR=...
#       -D CXX_COMPILER=... [-D CXX_FLAGS=...] -P check_install.cmake
#
# Proves torsion is installable: `cmake --install` of BUILD_DIR into a fresh prefix, then
# the consumer project (find_package(torsion REQUIRED)) is configured, built and run
# against that prefix alone. Registered as the CTest install.find_package_consumer.
foreach(var BUILD_DIR WORK_DIR CONSUMER_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_install.cmake: -D ${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install check: ${what} failed (${rc}): ${ARGN}")
  endif()
endfunction()

run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

run("configuring the consumer" ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${consumer_build} -G ${GENERATOR}
    -D CMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" -D CMAKE_PREFIX_PATH=${prefix}
    -D CMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -D CMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
run("building the consumer" ${CMAKE_COMMAND} --build ${consumer_build})

# The consumer must have found the package in the prefix, not in the build tree.
file(STRINGS ${consumer_build}/CMakeCache.txt torsion_dir REGEX "^torsion_DIR:")
string(FIND "${torsion_dir}" "${prefix}" in_prefix)
if(in_prefix EQUAL -1)
  message(FATAL_ERROR "install check: find_package(torsion) did not use the installed prefix: ${torsion_dir}")
endif()

run("running the consumer" ${consumer_build}/torsion_consumer)
message(STATUS "install check: ${prefix} works with find_package(torsion)")
