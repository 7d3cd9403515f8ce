# cmake -D SOURCE_DIR=... -D WORK_DIR=... -D GENERATOR=... -D CXX_COMPILER=...
#       [-D CXX_FLAGS=...] [-D LAUNCHER=...] -P check_subdirectory.cmake
#
# Proves that a project can build torsion as part of itself: tests/install/
# subdirectory_consumer adds SOURCE_DIR with add_subdirectory, configured as on a machine
# without GoogleTest and Doxygen (CMAKE_DISABLE_FIND_PACKAGE_*), then is built and run.
# Registered as the CTest install.add_subdirectory_consumer.
include(${CMAKE_CURRENT_LIST_DIR}/install_common.cmake)
torsion_require(SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)

set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
set(launcher)
if(LAUNCHER)
  set(launcher -D CMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
run("configuring the add_subdirectory consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/subdirectory_consumer
    -B ${build} -G ${GENERATOR} -D CMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" ${launcher}
    -D TORSION_SOURCE_DIR=${SOURCE_DIR} -D CMAKE_DISABLE_FIND_PACKAGE_GTest=ON
    -D CMAKE_DISABLE_FIND_PACKAGE_Doxygen=ON)
run("building the add_subdirectory consumer" ${CMAKE_COMMAND} --build ${build})
run("running the add_subdirectory consumer" ${build}/torsion_consumer)
message(STATUS "install check: torsion builds inside a project with add_subdirectory, without GoogleTest")
